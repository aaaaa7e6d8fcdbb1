# The API reference: Doxygen over the public headers (`cmake --build --preset release
# --target spindle_docs`, into <build>/docs/html). Any Doxygen warning fails the target,
# so a comment that names a parameter the function does not have, or a broken
# reference, is caught when it is written. Without Doxygen installed there is no target.
find_package(Doxygen QUIET)
if(NOT DOXYGEN_FOUND)
  return()
endif()

set(DOXYGEN_PROJECT_NAME "Spindle")
set(DOXYGEN_PROJECT_BRIEF "${PROJECT_DESCRIPTION}")
set(DOXYGEN_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/docs)
set(DOXYGEN_GENERATE_LATEX NO)
set(DOXYGEN_STRIP_FROM_PATH ${PROJECT_SOURCE_DIR}/scheduler/include ${PROJECT_SOURCE_DIR}/core/include
                            ${PROJECT_SOURCE_DIR}/dist/include)
set(DOXYGEN_STRIP_FROM_INC_PATH ${DOXYGEN_STRIP_FROM_PATH})
set(DOXYGEN_FILE_PATTERNS *.hpp)
set(DOXYGEN_EXCLUDE_PATTERNS */detail/*)
set(DOXYGEN_EXCLUDE_SYMBOLS spindle::detail spindle::detail::*)
set(DOXYGEN_EXTRACT_ALL YES)  # every public name listed, documented or not
set(DOXYGEN_JAVADOC_AUTOBRIEF YES)
set(DOXYGEN_WARN_AS_ERROR FAIL_ON_WARNINGS)
set(DOXYGEN_QUIET YES)
set(DOXYGEN_HAVE_DOT NO)
set(DOXYGEN_ENABLE_PREPROCESSING YES)
set(DOXYGEN_USE_MDFILE_AS_MAINPAGE ${PROJECT_SOURCE_DIR}/docs/api.md)

doxygen_add_docs(spindle_docs
  ${PROJECT_SOURCE_DIR}/docs/api.md
  ${PROJECT_SOURCE_DIR}/scheduler/include ${PROJECT_SOURCE_DIR}/core/include ${PROJECT_SOURCE_DIR}/dist/include
  COMMENT "API reference (Doxygen) in ${CMAKE_BINARY_DIR}/docs/html")
