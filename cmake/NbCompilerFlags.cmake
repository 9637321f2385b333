# Warning set from STYLE.md; -Werror when NB_WERROR (CI turns it on).
set(NB_WARNINGS
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow
  -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 -Wformat-security
  -Wcast-qual -Wpointer-arith -Wundef)
if(NB_WERROR)
  list(APPEND NB_WARNINGS -Werror)
endif()

# Flags for sanitizers and coverage apply to every target of the build,
# so that tests, tools and the library agree.
if(NB_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
endif()
if(NB_COVERAGE)
  if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    add_compile_options(-fprofile-instr-generate -fcoverage-mapping)
    add_link_options(-fprofile-instr-generate)
  else()
    add_compile_options(--coverage)
    add_link_options(--coverage)
  endif()
endif()

# nb_target_warnings(target): the project's warnings, for our own sources only.
function(nb_target_warnings target)
  target_compile_options(${target} PRIVATE ${NB_WARNINGS})
endfunction()
