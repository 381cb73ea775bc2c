# Helpers shared by every component's CMakeLists.txt.
include(GoogleTest)

# cdp_library(NAME <name> SRCS ... DEPS ...): a static library cdp_<name> with the
# alias cdp::<name>, headers included by their path from the repository root.
function(cdp_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(cdp_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(cdp::${ARG_NAME} ALIAS cdp_${ARG_NAME})
  target_include_directories(cdp_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_link_libraries(cdp_${ARG_NAME} PUBLIC ${ARG_DEPS})
endfunction()

# cdp_test(NAME <name> SRCS ... DEPS ... LABELS ...): a gtest binary registered with
# CTest. Label "unit" needs nothing; "pg" needs CDP_TEST_PG_DSN; "e2e" starts binaries.
function(cdp_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} cdp::testing GTest::gmock GTest::gtest_main)
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  # One CTest test per gtest case, listed when ctest runs (not at build time).
  gtest_discover_tests(${ARG_NAME}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()

# cdp_embed_sql(TARGET <target> SCHEMA <schema> DIR <dir>): compiles every *.sql file in
# <dir> into <target> as cdp::storage::MigrationSet "<schema>" (see storage/migrate.h), so a
# service binary carries its own migrations and needs no path at run time.
function(cdp_embed_sql)
  cmake_parse_arguments(ARG "" "TARGET;SCHEMA;DIR" "" ${ARGN})
  file(GLOB _files CONFIGURE_DEPENDS "${ARG_DIR}/*.sql")
  list(SORT _files)
  set(_out "${CMAKE_CURRENT_BINARY_DIR}/migrations_${ARG_SCHEMA}.cc")
  add_custom_command(
    OUTPUT "${_out}"
    COMMAND ${CMAKE_COMMAND} -DSCHEMA=${ARG_SCHEMA} -DOUT=${_out} "-DFILES=${_files}"
            -P "${PROJECT_SOURCE_DIR}/cmake/EmbedSql.cmake"
    DEPENDS ${_files} "${PROJECT_SOURCE_DIR}/cmake/EmbedSql.cmake"
    COMMENT "Embedding SQL migrations of schema ${ARG_SCHEMA}"
    VERBATIM)
  target_sources(${ARG_TARGET} PRIVATE "${_out}")
endfunction()
