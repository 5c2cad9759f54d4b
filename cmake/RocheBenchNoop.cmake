# The no-op functions of bench/bindings_noop.c, as a library the Perl and
# Ruby benchmarks load beside libroche (ROCHE_BENCH_NOOP), whichever of the
# two bindings defines it first.
if(NOT TARGET roche_bench_noop)
  add_library(roche_bench_noop MODULE EXCLUDE_FROM_ALL ${PROJECT_SOURCE_DIR}/bench/bindings_noop.c)
endif()
