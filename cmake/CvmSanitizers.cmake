# -DCVM_SANITIZE=address,undefined adds the sanitizers to every target.
if(CVM_SANITIZE)
  add_compile_options(-fsanitize=${CVM_SANITIZE} -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${CVM_SANITIZE})
endif()
