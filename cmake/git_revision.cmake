# The git revision of the source tree, for `prefetch-tuner --version`: `git describe --always
# --dirty` at configure time, or "unknown" when there is no git or no checkout (a tarball). Never
# an error: a build without git is a build.
#
# Included: pt_git_revision(OUT_VAR SOURCE_DIR) sets OUT_VAR.
# As a script (the test): cmake -DSOURCE_DIR=... [-DGIT_EXECUTABLE=...] -P git_revision.cmake
# prints "revision: <revision>".
function(pt_git_revision out_var source_dir)
  set(revision "unknown")
  if(NOT DEFINED GIT_EXECUTABLE)
    find_program(GIT_EXECUTABLE git)
  endif()
  if(GIT_EXECUTABLE AND EXISTS "${GIT_EXECUTABLE}")
    execute_process(COMMAND "${GIT_EXECUTABLE}" describe --always --dirty
                    WORKING_DIRECTORY "${source_dir}"
                    RESULT_VARIABLE result
                    OUTPUT_VARIABLE output
                    ERROR_QUIET
                    OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(result EQUAL 0 AND NOT output STREQUAL "")
      set(revision "${output}")
    endif()
  endif()
  set(${out_var} "${revision}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  pt_git_revision(revision "${SOURCE_DIR}")
  message(STATUS "revision: ${revision}")
endif()
