#!/usr/bin/env python3
"""A run's TensorBoard event file, decoded independently of priorlab's writer: the record framing
and its masked CRC-32C checked with a CRC written here, the Event/Summary messages parsed with
Python's protobuf from the same schema (compiled here by protoc), and every value compared with
what the run wrote elsewhere: each metrics.jsonl line, each evaluator metric of summary.json, each
picture's bytes. Then a resume from an earlier checkpoint (no step twice), a torn last record, a
later `priorlab evaluate`, and "tensorboard": false.

Usage: tensorboard_test.py PRIORLAB_EXE PROTO_DIR PROTOC WORK_DIR
"""
import glob
import json
import math
import os
import shutil
import struct
import subprocess
import sys

exe, proto_dir, protoc, work = sys.argv[1:5]
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)


def crc32c(data):
    # Bitwise CRC-32C: reflected polynomial 0x82F63B78 (0x1EDC6F41), init and final XOR ~0.
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value


def records(path):
    data = open(path, "rb").read()
    at, out = 0, []
    while at < len(data):
        check(at + 12 <= len(data), f"{path}: a torn record header at byte {at}")
        (length,) = struct.unpack_from("<Q", data, at)
        (crc_len,) = struct.unpack_from("<I", data, at + 8)
        check(crc_len == masked(crc32c(data[at:at + 8])), f"length CRC of the record at byte {at}")
        body = data[at + 12:at + 12 + length]
        (crc_body,) = struct.unpack_from("<I", data, at + 12 + length)
        check(crc_body == masked(crc32c(body)), f"data CRC of the record at byte {at}")
        event = pb.Event()
        event.ParseFromString(body)
        out.append(event)
        at += 12 + length + 4
    return out


def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def run(*args, cwd=work):
    r = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        sys.exit(f"priorlab {' '.join(args)} exited {r.returncode}")
    return r


shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
subprocess.run([protoc, f"-I{proto_dir}", f"--python_out={work}", "tensorboard_event.proto"], check=True)
sys.path.insert(0, work)
import tensorboard_event_pb2 as pb  # noqa: E402

pipeline = {
    "name": "tb", "seed": 3, "device": "cpu",
    "dataset": {"plugin": "pendulum", "options": {"size": 400, "test_fraction": 0.25}},
    "network": {"plugin": "mlp", "options": {"latent_dim": 2, "hidden": [64], "decoder_sigma": 0.1}},
    "prior": {"plugin": "gaussian"},
    "scheduler": {"plugin": "rewo", "options": {"measure": "squared_error", "threshold": 0.05}},
    "training": {"iterations": 60, "batch_size": 32, "learning_rate": 1e-3, "log_every": 10, "checkpoint_every": 25},
    "evaluators": [{"plugin": "reconstruction", "options": {"pictures": 4}}, {"plugin": "training_curves"}],
}
json.dump(pipeline, open(os.path.join(work, "tb.json"), "w"))
run("run", "tb.json", "--out", "runs")
rd = os.path.join(work, "runs", "tb")
files = glob.glob(os.path.join(rd, "tensorboard", "events.out.tfevents.*"))
check(len(files) == 1, f"one event file, found {files}")
event_file = files[0]


def verify(final_step, what):
    events = records(event_file)
    check(events[0].file_version == "brain.Event:2", f"{what}: the first record names the file version")
    metrics = [json.loads(line) for line in open(os.path.join(rd, "metrics.jsonl"))]
    train = [e for e in events[1:] if any(v.tag.startswith("train/") for v in e.summary.value)]
    check([e.step for e in train] == [m["step"] for m in metrics],
          f"{what}: one train record per metrics.jsonl line, in order: {[e.step for e in train]}")
    for e, m in zip(train, metrics):
        got = {v.tag: v.simple_value for v in e.summary.value}
        want = {}
        for k, v in m.items():
            if k == "step":
                continue
            if isinstance(v, bool):
                want["train/" + k] = float(v)
            elif isinstance(v, (int, float)):
                want["train/" + k] = f32(float(v))
            elif isinstance(v, str):
                want[f"train/{k}={v}"] = 1.0
        check(set(got) == set(want), f"{what}: step {m['step']}: tags {sorted(got)} != {sorted(want)}")
        for tag in want:
            if tag in got:
                check(same(got[tag], want[tag]), f"{what}: step {m['step']} {tag}: {got[tag]} != {want[tag]}")
    for needed in ("train/loss", "train/rate", "train/distortion", "train/beta", "train/C_hat", "train/threshold"):
        check(any(v.tag == needed for e in train for v in e.summary.value), f"{what}: {needed} is logged")
    check(any(v.tag.startswith("train/phase=") for e in train for v in e.summary.value), f"{what}: the phase is logged")
    pairs = [(v.tag, e.step) for e in events[1:] for v in e.summary.value]
    check(len(pairs) == len(set(pairs)), f"{what}: no (tag, step) twice")
    # Evaluator metrics and pictures at the final step, as summary.json and artefacts/ hold them
    # (an earlier end's evaluation, of a run extended since, stays at its own step).
    summary = json.load(open(os.path.join(rd, "summary.json")))
    evals = {}
    images = {}
    for e in events[1:]:
        for v in e.summary.value:
            if v.tag.startswith("eval/") and e.step == final_step:
                if v.HasField("image"):
                    images[v.tag] = v.image
                else:
                    evals[v.tag] = v.simple_value
    want = {f"eval/{name}/{k}": f32(float(x)) for name, ms in summary["evaluators"].items() for k, x in ms.items()
            if isinstance(x, (int, float)) and not isinstance(x, bool)}
    check(set(evals) == set(want), f"{what}: eval tags {sorted(set(evals) ^ set(want))} differ")
    for tag in want:
        if tag in evals:
            check(same(evals[tag], want[tag]), f"{what}: {tag}: {evals[tag]} != {want[tag]}")
    pngs = [a for a in summary["artefacts"] if a.endswith(".png")]
    for a in pngs:
        tag = "eval/" + a[len("artefacts/"):-4]
        check(tag in images, f"{what}: picture {a} as {tag}")
        if tag in images:
            raw = open(os.path.join(rd, a), "rb").read()
            width, height = struct.unpack(">II", raw[16:24])
            img = images[tag]
            check(img.encoded_image_string == raw, f"{what}: {tag} holds the PNG's bytes")
            check((img.width, img.height) == (width, height), f"{what}: {tag} is {img.width}x{img.height}")
    check(len(images) == len(pngs), f"{what}: {len(images)} pictures for {len(pngs)} PNG artefacts")
    return events, metrics


verify(60, "run")

# A resume from step 50 (the step-60 checkpoint gone, as after a kill): the records after step 50
# are dropped, the steps from 60 on logged once, the evaluation at 80.
os.remove(os.path.join(rd, "checkpoints", "step_00000060.pt"))
run("resume", "runs/tb", "--set", "training.iterations=80")
check(glob.glob(os.path.join(rd, "tensorboard", "events.out.tfevents.*")) == [event_file], "resume keeps the file")
events, metrics = verify(80, "resume")
check(not any(e.step == 60 and v.tag.startswith("eval/") for e in events for v in e.summary.value),
      "resume: the evaluation at step 60, which the checkpoint of step 50 does not cover, is gone")

# A torn last record (a kill inside a write) is dropped when the run goes on.
with open(event_file, "ab") as f:
    f.write(b"\x30\x00\x00\x00\x00\x00\x00\x00\x01\x02")
run("resume", "runs/tb", "--set", "training.iterations=90")
verify(90, "after a torn record")

# `priorlab evaluate` appends its metrics at the evaluated step.
run("evaluate", "runs/tb", "--evaluator", json.dumps({"plugin": "loglik", "options": {"samples": 10, "limit": 20}}))
summary = json.load(open(os.path.join(rd, "summary.json")))
last = records(event_file)[-1]
got = {v.tag: v.simple_value for v in last.summary.value}
check(last.step == 90 and same(got.get("eval/loglik/nll", float("nan")), f32(summary["evaluators"]["loglik"]["nll"])),
      f"evaluate: eval/loglik/nll at step 90 is {got.get('eval/loglik/nll')} (step {last.step})")

# "tensorboard": false writes none.
pipeline["name"] = "quiet"
pipeline["tensorboard"] = False
json.dump(pipeline, open(os.path.join(work, "quiet.json"), "w"))
run("run", "quiet.json", "--out", "runs")
check(not os.path.exists(os.path.join(work, "runs", "quiet", "tensorboard")), '"tensorboard": false writes no folder')

if failures:
    sys.exit(f"{len(failures)} check(s) failed")
shutil.rmtree(work, ignore_errors=True)
print("tensorboard: every record decodes to the run's values")
