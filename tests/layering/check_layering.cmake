# A lower room must not see a higher one: compiled with only sim's include path, a file that
# includes an analyze/ header must fail, and one that includes a header sim may use must pass
# (so the failure is the layering, not a broken command). Run by ctest as Layering.*.
#   cmake -DCXX=<compiler> -DINCLUDES="<dir;dir>" -DSRC=<tests/layering> -DWORK=<dir> -P check_layering.cmake
set(flags -std=c++20 -fsyntax-only)
foreach(dir IN LISTS INCLUDES)
  list(APPEND flags -I${dir})
endforeach()
file(MAKE_DIRECTORY ${WORK})
file(WRITE ${WORK}/downward.cc "#include \"sim/step_plan.h\"\n#include \"config/deployment.h\"\n")
file(WRITE ${WORK}/upward.cc "#include \"sim/step_plan.h\"\n#include \"analyze/calibration.h\"\n")
execute_process(COMMAND ${CXX} ${flags} ${WORK}/downward.cc RESULT_VARIABLE down ERROR_VARIABLE down_err)
if(NOT down EQUAL 0)
  message(FATAL_ERROR "a downward include failed to compile with sim's include path:\n${down_err}")
endif()
execute_process(COMMAND ${CXX} ${flags} ${WORK}/upward.cc RESULT_VARIABLE up ERROR_VARIABLE up_err)
if(up EQUAL 0)
  message(FATAL_ERROR "sim/ could include analyze/calibration.h: the room layering is not enforced")
endif()
if(NOT up_err MATCHES "analyze/calibration.h")
  message(FATAL_ERROR "the upward include failed for another reason:\n${up_err}")
endif()
message(STATUS "layering holds: sim/ cannot include analyze/")
