# Warning flags for our own targets (third-party headers are system headers).
function(cvm_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wstrict-prototypes
    -Wmissing-prototypes -Wshadow -Wformat=2 -Wcast-qual -Wwrite-strings
    -Wundef -Wdouble-promotion -Wno-format-nonliteral)
  if(CVM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
