# frozen_string_literal: true

# Ruby-side throughput of the roche gem: operations (values) per second for
# single calls and for batched calls, 100-byte values, one thread.
#   ROCHE_LIB=build/libroche/libroche.so ruby -Ibindings/ruby/lib bindings/ruby/bench/bench.rb [COUNT] [BATCH]
require "roche"
require "tmpdir"

COUNT = Integer(ARGV[0] || 200_000)
BATCH = Integer(ARGV[1] || 1000)
VALUE = ("v" * 100).b

def measure(label, operations)
  started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  yield
  seconds = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
  printf("%-28s %10d ops %8.3f s %12.0f ops/s\n", label, operations, seconds, operations / seconds)
end

Dir.mktmpdir("roche-bench") do |root|
  Roche.open(root) do |db|
    offsets = nil
    measure("append (100 B)", COUNT) { offsets = Array.new(COUNT) { db.append(VALUE) } }
    batch = Array.new(BATCH, VALUE)
    measure("append_many (#{BATCH} x 100 B)", COUNT) do
      (COUNT / BATCH).times { db.append_many(batch, namespace: "batched") }
    end
    shuffled = offsets.shuffle(random: Random.new(1))
    measure("get", COUNT) { shuffled.each { |offset| db.get(offset) } }
    measure("multi_get (#{BATCH} per call)", COUNT) do
      shuffled.each_slice(BATCH) { |slice| db.multi_get(slice) }
    end
    measure("each", COUNT) { db.each { |_record| nil } }
    # The floor of any single call: an attached function that does nothing.
    measure("noop call (roche_version_number)", COUNT) { COUNT.times { Roche::Native.roche_version_number } }
    # The floor of get's and append's calls: functions that do nothing, with
    # their signatures, attached and called as Roche::Native attaches and
    # DB calls roche_get_into and roche_append (bench/bindings_noop.c; the
    # build sets ROCHE_BENCH_NOOP).
    if ENV["ROCHE_BENCH_NOOP"]
      noop = Module.new do
        extend FFI::Library
        ffi_lib ENV["ROCHE_BENCH_NOOP"]
        attach_function :get, :roche_bench_noop_get, %i[uintptr_t string uint64 uintptr_t size_t uintptr_t], :int
        attach_function :append, :roche_bench_noop_append, %i[uintptr_t string string pointer size_t uintptr_t], :int
      end
      handle = db.instance_variable_get(:@address)
      scratch = FFI::MemoryPointer.new(:uint64, 2)
      at = scratch.address
      measure("noop6 call, as get", COUNT) { shuffled.each { |offset| noop.get(handle, nil, offset, at, 4096, at) } }
      measure("noop6 call, as append", COUNT) { COUNT.times { noop.append(handle, nil, nil, VALUE, 100, at) } }
    end
  end
end
