# frozen_string_literal: true

require "ffi"

module Roche
  # The C API of include/roche.h, attached through the ffi gem. Nothing here
  # is public API of the gem: Roche::DB is the way in.
  module Native
    extend FFI::Library

    # Where libroche.so may be, first match wins: ROCHE_LIB, a build tree
    # next to this checkout, the installed prefix pkg-config knows, and
    # finally whatever the system loader finds.
    def self.library_candidates
      explicit = ENV["ROCHE_LIB"]
      return [explicit] if explicit && !explicit.empty?

      build_tree_libraries + pkg_config_libraries + ["roche", "libroche.so.0"]
    end

    # build/ (the README's) first, then any other build*/ tree by name.
    def self.build_tree_libraries
      checkout = File.expand_path("../../../..", __dir__)
      trees = Dir.glob(File.join(checkout, "build*/")).sort_by { |tree| [File.basename(tree) == "build" ? 0 : 1, tree] }
      trees.flat_map { |tree| Dir.glob(File.join(tree, "{libroche/,}libroche.so")) }
    end

    def self.pkg_config_libraries
      libdir = IO.popen(%w[pkg-config --variable=libdir roche], err: File::NULL, &:read).strip
      libdir.empty? ? [] : [File.join(libdir, "libroche.so.0")]
    rescue SystemCallError # no pkg-config on this machine
      []
    end

    # Load the first candidate that opens.
    def self.load_library
      failures = library_candidates.map do |candidate|
        return ffi_lib(candidate)
      rescue LoadError => e
        e.message
      end
      raise LoadError, "libroche not found; set ROCHE_LIB to the path of libroche.so\n#{failures.join("\n")}"
    end

    load_library

    # Return codes (roche.h).
    OK = 0
    DONE = 1
    EINVAL = -30_901
    ENOTFOUND = -30_902
    ECORRUPT = -30_903
    EIO = -30_904
    ENOMEM = -30_905
    ETOOBIG = -30_906
    ELOCKED = -30_907
    EREADONLY = -30_908
    EINTERNAL = -30_909
    ETIMEDOUT = -30_910
    ECANCELED = -30_911
    EDROPPED = -30_912
    ENOTSUP = -30_913

    SYNC_NEVER = 0
    SYNC_ALWAYS = 1
    SYNC_PERIODIC = 2
    FORMAT_ROCHE = 0
    FORMAT_ROCHEFORT = 1
    STAT_VERSION = 2
    FOLLOW_FROM_END = 1
    # An offset is (bucket << OFFSET_BITS) | position.
    OFFSET_BITS = 50

    # Statistics of one namespace; fields are only ever appended in C.
    class StatInfo < FFI::Struct
      layout :version, :uint32,
             :buckets, :uint32,
             :records, :uint64,
             :bytes, :uint64,
             :oldest_ns, :uint64,
             :newest_ns, :uint64,
             :damaged_ranges, :uint64,
             :damaged_bytes, :uint64,
             :recovered_bytes, :uint64,
             # version 2
             :dropped_records, :uint64,
             :dropped_bytes, :uint64
    end

    attach_function :roche_version, [], :string
    # Does nothing but return a constant: the floor of any call's cost.
    attach_function :roche_version_number, [], :int
    attach_function :roche_strerror, [:int], :string
    attach_function :roche_last_error, [], :string
    attach_function :roche_free, [:pointer], :void

    attach_function :roche_options_new, [], :pointer
    attach_function :roche_options_free, [:pointer], :void
    attach_function :roche_options_set_buckets, %i[pointer uint32], :int
    attach_function :roche_options_set_read_only, %i[pointer int], :int
    attach_function :roche_options_set_sync, %i[pointer int], :int
    attach_function :roche_options_set_retention, %i[pointer uint64 uint64], :int
    attach_function :roche_options_set_sync_period_ms, %i[pointer uint32], :int
    attach_function :roche_options_set_max_open_files, %i[pointer uint32], :int
    # As young as roche_get_into: with a libroche without it the default
    # format still opens, and DB.new refuses format: :rochefort.
    begin
      attach_function :roche_options_set_format, %i[pointer int], :int
    rescue FFI::NotFoundError
      nil
    end

    # Calls that may touch the disk or walk many records release the GVL.
    # The call stays on the calling native thread, so roche_last_error() read
    # right after it still describes its failure.
    attach_function :roche_open, %i[string pointer pointer], :int, blocking: true
    attach_function :roche_close, [:pointer], :int, blocking: true
    attach_function :roche_append, %i[pointer string string pointer size_t pointer], :int
    # The hot path's signature (DB#append): the handle and the offset's slot
    # go as addresses (uintptr_t), which ffi converts for less than a
    # :pointer, and the value as the String itself (ffi hands its bytes
    # over in place as a :pointer; a :string would refuse NUL bytes).
    attach_function :roche_append_fast, :roche_append, %i[uintptr_t string string pointer size_t uintptr_t], :int
    # The same call for stores opened with sync: :always, where each append
    # waits for the disk.
    attach_function :roche_append_blocking, :roche_append, %i[pointer string string pointer size_t pointer], :int,
                    blocking: true
    attach_function :roche_append_many, %i[pointer string string pointer pointer size_t pointer], :int,
                    blocking: true
    attach_function :roche_sync_namespace, %i[pointer string], :int, blocking: true
    attach_function :roche_sync, [:pointer], :int, blocking: true

    # DB#get: the value copied into the DB's own buffer (or ETOOBIG and the
    # length, when it does not fit), then once into a String. The buffer
    # and the length's word go as addresses (uintptr_t) of MemoryPointers
    # the DB keeps alive: cheaper than :pointer arguments.
    # roche_get_into is younger than the rest: a libroche without it (an
    # older one found first) still serves, DB#get then reads through a view.
    begin
      attach_function :roche_get_into, %i[uintptr_t string uint64 uintptr_t size_t uintptr_t], :int
    rescue FFI::NotFoundError
      nil
    end
    # The value in place (pinned until roche_view_release): DB#get without
    # roche_get_into. The three output arguments are addresses of words in
    # the handle's scratch MemoryPointer.
    attach_function :roche_get_view, %i[uintptr_t string uint64 uintptr_t uintptr_t uintptr_t], :int
    attach_function :roche_view_release, [:uintptr_t], :void
    attach_function :roche_multiget, %i[pointer string pointer size_t pointer], :int, blocking: true
    attach_function :roche_values_count, [:pointer], :size_t
    attach_function :roche_values_buffer, %i[pointer pointer], :pointer
    attach_function :roche_values_lengths, [:pointer], :pointer
    attach_function :roche_values_statuses, [:pointer], :pointer
    attach_function :roche_values_free, [:pointer], :void

    attach_function :roche_scan_open, %i[pointer string uint64 pointer], :int, blocking: true
    attach_function :roche_scan_next, %i[pointer pointer pointer pointer pointer], :int, blocking: true
    # DB#each: up to max records a call.
    attach_function :roche_scan_next_batch, %i[pointer size_t pointer pointer pointer pointer pointer], :int,
                    blocking: true
    attach_function :roche_scan_free, [:pointer], :void

    attach_function :roche_namespaces, %i[pointer pointer pointer], :int, blocking: true
    attach_function :roche_close_namespace, %i[pointer string], :int, blocking: true
    attach_function :roche_delete_namespace, %i[pointer string], :int, blocking: true
    attach_function :roche_stat, %i[pointer string pointer], :int, blocking: true

    # Following a namespace. The waits release the GVL; Roche::Follower
    # keeps each one short (Follower::SLICE) so that Thread#raise, Thread#kill
    # and Ctrl-C reach a waiting thread: ruby-ffi cannot interrupt a native
    # wait, and Ruby runs a thread's interrupts only once it is back in Ruby.
    attach_function :roche_follow_open, %i[pointer string pointer size_t int pointer], :int, blocking: true
    attach_function :roche_follow_open_cursor, %i[pointer string string int pointer], :int, blocking: true
    attach_function :roche_follow_next_batch, %i[pointer int size_t pointer pointer pointer pointer pointer], :int,
                    blocking: true
    attach_function :roche_follow_wake, [:pointer], :int
    attach_function :roche_follow_position, %i[pointer pointer size_t pointer], :int
    attach_function :roche_follow_commit, %i[pointer string], :int, blocking: true
    attach_function :roche_follow_free, [:pointer], :void

    attach_function :roche_cursor_commit, %i[pointer string string pointer size_t], :int, blocking: true
    attach_function :roche_cursor_get, %i[pointer string string pointer pointer], :int, blocking: true
    attach_function :roche_cursor_list, %i[pointer string pointer pointer], :int, blocking: true
    attach_function :roche_cursor_delete, %i[pointer string string], :int, blocking: true

    attach_function :roche_retain, %i[pointer string uint64 uint64 pointer], :int, blocking: true
    attach_function :roche_bucket_range, %i[pointer string uint32 pointer pointer], :int, blocking: true
  end
end
