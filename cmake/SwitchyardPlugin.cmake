# switchyard_add_plugin(NAME SOURCES src... [LIBS lib...] [MANIFEST file] [OUTPUT_DIRECTORY dir]
#                       [INSTALL_DIRECTORY dir])
#
# Builds a Switchyard device plugin: a MODULE library `lib<NAME>.so` against Switchyard::plugin_sdk
# (the ABI header, and the optional C++ helpers), with hidden visibility, the SDK's version script
# (the library exports SwitchyardPluginGetApi and nothing else) and --no-undefined (a missing
# symbol fails the link, not the load). MANIFEST (a YAML file, configured with @ONLY: @VAR@ is
# replaced) is copied beside the library as <NAME>.yaml, so OUTPUT_DIRECTORY can go straight into
# SWITCHYARD_PLUGIN_PATH. Both are installed into INSTALL_DIRECTORY (default: the folder the
# installed switchyard searches, <libdir>/switchyard/plugins, relative to the install prefix).
#
# The same file serves the Switchyard tree itself and, installed, every vendor's project through
# find_package(Switchyard); docs/plugin-authors-guide.md shows it in use.
include_guard(GLOBAL)
include(GNUInstallDirs)

function(switchyard_add_plugin name)
  cmake_parse_arguments(P "" "MANIFEST;OUTPUT_DIRECTORY;INSTALL_DIRECTORY" "SOURCES;LIBS" ${ARGN})
  if(NOT P_SOURCES)
    message(FATAL_ERROR "switchyard_add_plugin(${name}): give the plugin's SOURCES")
  endif()
  if(NOT P_OUTPUT_DIRECTORY)
    set(P_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  endif()
  if(NOT P_INSTALL_DIRECTORY)
    set(P_INSTALL_DIRECTORY ${CMAKE_INSTALL_LIBDIR}/switchyard/plugins)
  endif()
  set(version_script ${SWITCHYARD_PLUGIN_VERSION_SCRIPT})
  if(NOT EXISTS "${version_script}")
    message(FATAL_ERROR "switchyard_add_plugin(${name}): the SDK's version script '${version_script}' is missing (SWITCHYARD_PLUGIN_VERSION_SCRIPT)")
  endif()
  add_library(${name} MODULE ${P_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIRECTORY})
  target_link_libraries(${name} PRIVATE Switchyard::plugin_sdk ${P_LIBS})
  target_link_options(${name} PRIVATE ${SWITCHYARD_NO_UNDEFINED} -Wl,--exclude-libs,ALL -Wl,--version-script=${version_script})
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS ${version_script})
  if(P_MANIFEST)
    configure_file(${P_MANIFEST} ${P_OUTPUT_DIRECTORY}/${name}.yaml @ONLY)
    install(FILES ${P_OUTPUT_DIRECTORY}/${name}.yaml DESTINATION ${P_INSTALL_DIRECTORY})
  endif()
  install(TARGETS ${name} LIBRARY DESTINATION ${P_INSTALL_DIRECTORY})
endfunction()

# --no-undefined unless the including project says otherwise (Switchyard's fuzz build clears it).
if(NOT DEFINED SWITCHYARD_NO_UNDEFINED)
  set(SWITCHYARD_NO_UNDEFINED -Wl,--no-undefined)
endif()
