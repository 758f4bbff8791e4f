# priorlab_add_plugin(<target> SOURCES <files...> [LIBRARIES <libs...>] [OUTPUT_DIRECTORY <dir>]
#                     [NO_INSTALL])
#
# Builds a plugin library: a MODULE linked to priorlab::sdk, with hidden visibility, the
# generated entry file (the C handshake), and installed beside the host's plugins. Works in
# priorlab's own tree and, after find_package(priorlab), in anyone's.
set(_PRIORLAB_PLUGIN_CMAKE_DIR ${CMAKE_CURRENT_LIST_DIR})

function(priorlab_add_plugin target)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "priorlab_add_plugin(${target}): SOURCES is required")
  endif()
  set(entry ${CMAKE_CURRENT_BINARY_DIR}/${target}_entry.cpp)
  configure_file(${_PRIORLAB_PLUGIN_CMAKE_DIR}/plugin_entry.cpp.in ${entry} COPYONLY)
  add_library(${target} MODULE ${ARG_SOURCES} ${entry})
  if(TARGET priorlab_sdk)
    target_link_libraries(${target} PRIVATE priorlab_sdk priorlab_warnings ${ARG_LIBRARIES})
  else()
    target_link_libraries(${target} PRIVATE priorlab::sdk ${ARG_LIBRARIES})
  endif()
  if(COMMAND priorlab_use_pch)
    priorlab_use_pch(${target})
  endif()
  if(NOT ARG_OUTPUT_DIRECTORY AND DEFINED PRIORLAB_PLUGIN_OUTPUT_DIR)
    set(ARG_OUTPUT_DIRECTORY ${PRIORLAB_PLUGIN_OUTPUT_DIR})
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX "libpriorlab_"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    INSTALL_RPATH "$ORIGIN/../..")
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
  if(TARGET priorlab_all_plugins AND NOT ARG_NO_INSTALL)
    add_dependencies(priorlab_all_plugins ${target})
  endif()
  if(NOT ARG_NO_INSTALL)
    include(GNUInstallDirs)
    install(TARGETS ${target} LIBRARY DESTINATION lib/priorlab/plugins)
  endif()
endfunction()
