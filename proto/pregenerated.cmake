# Checks a folder of sources generated elsewhere (FT_PROTO_GENERATED_DIR) before building from it:
# every expected file is there, and proto.sha256 (written beside them when they were generated,
# "<sha256>  <proto path>" per line) matches the .proto files of this checkout, so that a stale
# folder fails at configure time, naming the file, rather than at link or run time.
function(ft_check_pregenerated_protos dir protos)
  if(NOT EXISTS "${dir}/proto.sha256")
    message(FATAL_ERROR "FT_PROTO_GENERATED_DIR: ${dir}/proto.sha256 is missing")
  endif()
  file(STRINGS "${dir}/proto.sha256" lines)
  foreach(proto ${protos})
    string(REGEX REPLACE "\\.proto$" "" base ${proto})
    foreach(suffix .pb.cc .pb.h .grpc.pb.cc .grpc.pb.h)
      if(NOT EXISTS "${dir}/${base}${suffix}")
        message(FATAL_ERROR "FT_PROTO_GENERATED_DIR: ${dir}/${base}${suffix} is missing")
      endif()
    endforeach()
    file(SHA256 "${CMAKE_CURRENT_SOURCE_DIR}/${proto}" digest)
    list(FIND lines "${digest}  ${proto}" found)
    if(found EQUAL -1)
      message(FATAL_ERROR "FT_PROTO_GENERATED_DIR: ${dir} was generated from another "
        "proto/${proto} (its sha256 ${digest} is not in proto.sha256): generate it again")
    endif()
  endforeach()
  message(STATUS "ft_proto: pre-generated sources from ${dir}")
endfunction()
