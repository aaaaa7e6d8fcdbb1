# `cmake --install`: the public headers, the three layer libraries, the tools, a CMake
# package (find_package(Spindle) gives Spindle::spindle and Spindle::core/dist/scheduler)
# and a pkg-config file (spindle.pc).

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# One target for applications: every layer.
add_library(spindle INTERFACE)
add_library(Spindle::spindle ALIAS spindle)
target_link_libraries(spindle INTERFACE spindle_dist spindle_core spindle_scheduler)

set_target_properties(spindle_scheduler PROPERTIES EXPORT_NAME scheduler)
set_target_properties(spindle_core PROPERTIES EXPORT_NAME core)
set_target_properties(spindle_dist PROPERTIES EXPORT_NAME dist)

set(SPINDLE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Spindle)
install(TARGETS spindle spindle_scheduler spindle_core spindle_dist EXPORT SpindleTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/scheduler/include/ ${PROJECT_SOURCE_DIR}/core/include/
                  ${PROJECT_SOURCE_DIR}/dist/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS spindle-node spindle-etf spindle-top RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT SpindleTargets NAMESPACE Spindle:: DESTINATION ${SPINDLE_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/SpindleConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/SpindleConfig.cmake INSTALL_DESTINATION ${SPINDLE_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/SpindleConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/SpindleConfig.cmake ${PROJECT_BINARY_DIR}/SpindleConfigVersion.cmake
        DESTINATION ${SPINDLE_CMAKE_DIR})

# The .pc file finds the prefix from where it lies (so an installed tree can move).
file(RELATIVE_PATH SPINDLE_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
configure_file(${PROJECT_SOURCE_DIR}/cmake/spindle.pc.in ${PROJECT_BINARY_DIR}/spindle.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/spindle.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
