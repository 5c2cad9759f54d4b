# Man pages: written once in scdoc (doc/NAME.SECTION.scd), rendered when
# scdoc (Debian package scdoc) is found, installed to share/man/manSECTION.
# libroche/ renders libroche(3), cli/ roche(1) and roche-serve(1), kafka/
# roche-kafka(1).
find_program(SCDOC_EXECUTABLE scdoc)
if(NOT SCDOC_EXECUTABLE)
  get_property(_said GLOBAL PROPERTY ROCHE_MAN_SKIPPED_SAID)
  if(NOT _said)
    message(STATUS "man pages skipped: scdoc not found (apt-get install scdoc)")
    set_property(GLOBAL PROPERTY ROCHE_MAN_SKIPPED_SAID ON)
  endif()
endif()

function(roche_man_page name section)
  if(NOT SCDOC_EXECUTABLE)
    return()
  endif()
  set(_source ${PROJECT_SOURCE_DIR}/doc/${name}.${section}.scd)
  set(_page ${PROJECT_BINARY_DIR}/doc/${name}.${section})
  add_custom_command(OUTPUT ${_page}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/doc
    COMMAND sh -c "\"$0\" < \"$1\" > \"$2\"" ${SCDOC_EXECUTABLE} ${_source} ${_page}
    DEPENDS ${_source}
    COMMENT "Rendering the man page ${name}(${section})"
    VERBATIM)
  add_custom_target(man_${name} ALL DEPENDS ${_page})
  install(FILES ${_page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endfunction()
