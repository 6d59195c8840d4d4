# ftworker: the daemon glue (gRPC, abseil) around the training core. Included from
# worker/CMakeLists.txt when the service parts are built. The lease loop and reporting are
# ft_worker_lease (daemon/CMakeLists.txt, no Torch); standalone mode calls the trainer itself.
add_library(ft_worker_daemon STATIC
  daemon/standalone.cc
  generate/generate_command.cc
)
target_include_directories(ft_worker_daemon PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(ft_worker_daemon PUBLIC ft_worker_lease ft_training ft_common ft_events
  spdlog::spdlog Threads::Threads)
ft_warnings(ft_worker_daemon)

add_executable(ftworker main.cc)
target_link_libraries(ftworker PRIVATE ft_worker_daemon CLI11::CLI11)
ft_warnings(ftworker)
