# Script mode: writes OUT, a C++ file defining cdp::storage::migrations::<SCHEMA>(), from FILES.
set(_body "")
foreach(_f ${FILES})
  get_filename_component(_name "${_f}" NAME)
  file(READ "${_f}" _sql HEX)
  # Emit the bytes as a char array so that no SQL text can break the C++ literal.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," _bytes "${_sql}")
  string(APPEND _body "    {\"${_name}\", std::string({${_bytes}})},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from storage/migrations/${SCHEMA}/*.sql by cmake/EmbedSql.cmake.
#include \"storage/migrate.h\"

namespace cdp::storage::migrations {

MigrationSet ${SCHEMA}() {
  return MigrationSet{\"${SCHEMA}\", {
${_body}  }};
}

}  // namespace cdp::storage::migrations
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
