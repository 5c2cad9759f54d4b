# roche_binding_env(<var>): the environment a binding's tests, demo and
# benchmark run with, for the interpreted bindings (Ruby, Perl) that load
# libroche.so at run time: where the freshly built library is, and the
# cross-language helper when it was built.
#
# A sanitized libroche needs its sanitizer runtimes loaded before the
# interpreter's own libraries; interpreters do not free everything at exit,
# so leak checks stay off there.
function(roche_binding_env out_var)
  set(_env ROCHE_LIB=$<TARGET_FILE:roche>)
  if(TARGET roche_interop)
    list(APPEND _env ROCHE_INTEROP=$<TARGET_FILE:roche_interop>)
  endif()
  if(ROCHE_SANITIZE AND CMAKE_C_COMPILER_ID STREQUAL "GNU")
    set(_runtimes "")
    string(REPLACE "," ";" _sanitizers "${ROCHE_SANITIZE}")
    foreach(_sanitizer IN LISTS _sanitizers)
      set(_runtime "")
      if(_sanitizer STREQUAL "address")
        set(_runtime libasan.so)
      elseif(_sanitizer STREQUAL "undefined")
        set(_runtime libubsan.so)
      elseif(_sanitizer STREQUAL "thread")
        set(_runtime libtsan.so)
      endif()
      if(_runtime)
        execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=${_runtime}
                        OUTPUT_VARIABLE _path OUTPUT_STRIP_TRAILING_WHITESPACE)
        list(APPEND _runtimes ${_path})
      endif()
    endforeach()
    list(JOIN _runtimes ":" _preload)
    list(APPEND _env LD_PRELOAD=${_preload} ASAN_OPTIONS=detect_leaks=0)
  endif()
  set(${out_var} "${_env}" PARENT_SCOPE)
endfunction()
