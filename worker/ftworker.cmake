# ftworker: the daemon glue (gRPC, abseil) around the training core. Included from
# worker/CMakeLists.txt when the service parts are built.
add_library(ft_worker_daemon STATIC
  daemon/spec_to_options.cc
  daemon/event_conversion.cc
  daemon/event_log_file.cc
  daemon/lease_reporter.cc
  daemon/worker_loop.cc
  daemon/standalone.cc
  daemon/remote_inputs.cc
  daemon/chat_renderer.cc
  generate/generate_command.cc
)
target_include_directories(ft_worker_daemon PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(ft_worker_daemon PUBLIC ft_training ft_common ft_chat ft_channel ft_proto gRPC::grpc++
  spdlog::spdlog Threads::Threads)
ft_warnings(ft_worker_daemon)

add_executable(ftworker main.cc)
target_link_libraries(ftworker PRIVATE ft_worker_daemon CLI11::CLI11)
ft_warnings(ftworker)
