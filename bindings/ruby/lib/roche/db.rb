# frozen_string_literal: true

module Roche
  # An open store. Every method may be called from several threads at once.
  # Namespaces: nil means libroche's "default" namespace. Offsets are
  # Integers. Values come back as binary (ASCII-8BIT) Strings.
  class DB
    SYNC_POLICIES = { never: Native::SYNC_NEVER, always: Native::SYNC_ALWAYS }.freeze
    MAX_OFFSET = 2**64 - 1
    # A pointer's size, and a size_t's (unsigned long wherever ruby-ffi runs).
    WORD = FFI::Pointer.size
    private_constant :MAX_OFFSET, :WORD

    # Open the store at path; see Roche.open.
    def initialize(path, buckets: nil, read_only: false, sync: :never)
      path = File.path(path)
      out = FFI::MemoryPointer.new(:pointer)
      with_options(buckets, read_only, sync) do |options|
        Roche.check(Native.roche_open(path, options, out))
      end
      @handle = Handle.new(out.read_pointer)
      @sync_always = sync == :always
    end

    # Close the store: files are trimmed to their last record and the writer
    # lock is released. A second close does nothing; every other method
    # raises Roche::Closed afterwards.
    def close
      code = @handle.close
      Roche.check(code) if code
      nil
    end

    def closed?
      @handle.closed?
    end

    # Append value (a String, stored as its bytes whatever its encoding) and
    # return its offset. Values with the same id go to the same bucket, in
    # order.
    def append(value, id: nil, namespace: nil)
      value = string_value(value)
      namespace = name_arg(namespace)
      id = name_arg(id)
      offset = FFI::MemoryPointer.new(:uint64)
      use { |db| check(append_one(db, namespace, id, value, offset)) }
      offset.read_uint64
    end

    # Append every String of values in one call, all to one bucket; returns
    # their offsets in order.
    def append_many(values, id: nil, namespace: nil)
      values = list_arg(values).map { |value| string_value(value) }
      namespace = name_arg(namespace)
      id = name_arg(id)
      return nothing_to_do if values.empty?

      # Binary views first: joining Strings of other encodings would fail.
      data = native_bytes(values.map(&:b).join)
      lengths = FFI::MemoryPointer.new(:size_t, values.size)
      # size_t is unsigned long on every platform Debian's ruby-ffi runs on.
      lengths.write_array_of_ulong(values.map(&:bytesize))
      offsets = FFI::MemoryPointer.new(:uint64, values.size)
      use { |db| check(Native.roche_append_many(db, namespace, id, data, lengths, values.size, offsets)) }
      offsets.read_array_of_uint64(values.size)
    end

    # The value at offset, as a binary String. Raises Roche::NotFound for an
    # offset past the end, Roche::Corrupt for one inside a record.
    #
    # The bytes are copied once, from the store's mapping (roche_get_view)
    # straight into the String, and the view is released under the handle's
    # guard whatever happens: its slot starts NULL (a no-op release) and
    # libroche leaves it NULL on failure. The three output slots (view, data,
    # length) are words of one allocation, passed by address: a
    # MemoryPointer and a :pointer argument each cost more than the copy.
    def get(offset, namespace: nil)
      offset = offset_arg(offset)
      namespace = name_arg(namespace)
      slots = FFI::MemoryPointer.new(:pointer, 3)
      use do |db|
        at = slots.address
        check(Native.roche_get_view(db, namespace, offset, at, at + WORD, at + (2 * WORD)))
        slots.get_pointer(WORD).read_bytes(slots.get_ulong(2 * WORD))
      ensure
        Native.roche_view_release(slots.get_pointer(0))
      end
    end

    # The values at offsets, in request order. An offset that cannot be read
    # does not fail the call: its place in the Array holds the Roche::Error
    # (NotFound, Corrupt, ...) that #get would raise, without the detail.
    # Find the failures with result.grep(Roche::Error).
    def multi_get(offsets, namespace: nil)
      offsets = list_arg(offsets).map { |offset| offset_arg(offset) }
      namespace = name_arg(namespace)
      return nothing_to_do if offsets.empty?

      request = FFI::MemoryPointer.new(:uint64, offsets.size)
      request.write_array_of_uint64(offsets)
      out = FFI::MemoryPointer.new(:pointer)
      use { |db| check(Native.roche_multiget(db, namespace, request, offsets.size, out)) }
      split_values(*read_values(out.read_pointer))
    end

    # Yield [offset, value, time] (time a Time, to the nanosecond) for every
    # record in the namespace whose offset is at least from, in increasing
    # offset order. Like Hash#each, one Array is yielded, so a block takes
    # |offset, value, time| or |record|. Without a block, returns an
    # Enumerator.
    def each(namespace: nil, from: nil)
      return enum_for(__method__, namespace: namespace, from: from) unless block_given?

      scan = open_scan(name_arg(namespace), from.nil? ? 0 : offset_arg(from))
      begin
        slots = scan_slots
        while (record = scan_step(scan, slots))
          yield record
        end
      ensure
        @handle.free_scan(scan)
      end
      self
    end

    # Flush to disk: one namespace, or every namespace this handle has
    # written to when namespace is not given.
    def sync(namespace: :all)
      if namespace == :all
        use { |db| check(Native.roche_sync(db)) }
      else
        namespace = name_arg(namespace)
        use { |db| check(Native.roche_sync_namespace(db, namespace)) }
      end
      nil
    end

    # Close one namespace (its files are trimmed and closed); the next call
    # that uses it opens it again. nil is the default namespace.
    def close_namespace(namespace)
      namespace = name_arg(namespace)
      use { |db| check(Native.roche_close_namespace(db, namespace)) }
      nil
    end

    # Delete a namespace with all its records. nil is the default namespace.
    def delete_namespace(namespace)
      namespace = name_arg(namespace)
      use { |db| check(Native.roche_delete_namespace(db, namespace)) }
      nil
    end

    # The namespaces under the store's root, sorted.
    def namespaces
      names = FFI::MemoryPointer.new(:pointer)
      count = FFI::MemoryPointer.new(:size_t)
      use { |db| check(Native.roche_namespaces(db, names, count)) }
      list = names.read_pointer
      begin
        position = 0
        Array.new(count.read(:size_t)) do
          name = list.get_string(position)
          position += name.bytesize + 1
          name
        end
      ensure
        Native.roche_free(list)
      end
    end

    # Statistics of a namespace, as a Hash (see roche_stat_info in roche.h).
    def stat(namespace = nil)
      namespace = name_arg(namespace)
      info = Native::StatInfo.new
      info[:version] = Native::STAT_VERSION
      use { |db| check(Native.roche_stat(db, namespace, info)) }
      (info.members - [:version]).to_h { |field| [field, info[field]] }
    end

    private

    # Output slots of roche_scan_next() (offset, data, length, time), reused
    # by every step of one walk.
    def scan_slots
      %i[uint64 pointer size_t uint64].map { |type| FFI::MemoryPointer.new(type) }
    end

    # One step under the handle's guard: the next record, or nil at the end
    # of the scan. The record's bytes are copied before the guard is left,
    # as they lie in the bucket file's mapping (or the scan's buffer): a
    # close on another thread right after the step would free the scan and
    # unmap the file under a later read.
    def scan_step(scan, slots)
      use { scan_record(slots) if check(Native.roche_scan_next(scan, *slots)) == Native::OK }
    end

    def scan_record(slots)
      offset, data, length, time = slots
      size = length.read(:size_t)
      value = size.zero? ? String.new(encoding: Encoding::BINARY) : data.read_pointer.read_bytes(size)
      [offset.read_uint64, value, Time.at(0, time.read_uint64, :nanosecond)]
    end

    # A short append keeps the GVL, so the String's bytes can be handed over
    # as they are. One that waits for fsync releases it, and so reads a copy
    # in native memory that no Ruby thread can change meanwhile.
    def append_one(db, namespace, id, value, offset)
      if @sync_always
        Native.roche_append_blocking(db, namespace, id, native_bytes(value), value.bytesize, offset)
      else
        Native.roche_append(db, namespace, id, value, value.bytesize, offset)
      end
    end

    def use(&block)
      @handle.use(&block)
    end

    # The answer to an empty batch: [] on an open store, Closed otherwise.
    def nothing_to_do
      use { [] }
    end

    def check(code)
      Roche.check(code)
    end

    def open_scan(namespace, from)
      out = FFI::MemoryPointer.new(:pointer)
      use do |db|
        check(Native.roche_scan_open(db, namespace, from, out))
        scan = out.read_pointer
        @handle.register_scan(scan)
        scan
      end
    end

    # Read a roche_values result in three bulk reads, then free it.
    def read_values(values)
      count = Native.roche_values_count(values)
      size = FFI::MemoryPointer.new(:size_t)
      buffer = Native.roche_values_buffer(values, size)
      size = size.read(:size_t)
      bytes = size.zero? ? String.new(encoding: Encoding::BINARY) : buffer.read_bytes(size)
      lengths = Native.roche_values_lengths(values).read_array_of_uint64(count)
      statuses = Native.roche_values_statuses(values).read_array_of_int32(count)
      [bytes, lengths, statuses]
    ensure
      Native.roche_values_free(values)
    end

    def split_values(bytes, lengths, statuses)
      position = 0
      statuses.each_with_index.map do |status, i|
        next Roche.error_for(status) unless status == Native::OK

        value = bytes.byteslice(position, lengths[i])
        position += lengths[i]
        value
      end
    end

    def with_options(buckets, read_only, sync)
      options = Native.roche_options_new
      raise NoMemory, "roche_options_new failed" if options.null?

      begin
        check(Native.roche_options_set_buckets(options, bucket_count(buckets))) unless buckets.nil?
        check(Native.roche_options_set_read_only(options, read_only ? 1 : 0))
        check(Native.roche_options_set_sync(options, SYNC_POLICIES.fetch(sync) do
          raise ArgumentError, "sync must be one of #{SYNC_POLICIES.keys.inspect}, not #{sync.inspect}"
        end))
        yield options
      ensure
        Native.roche_options_free(options)
      end
    end

    def bucket_count(buckets)
      raise TypeError, "buckets must be an Integer, not #{buckets.class}" unless buckets.is_a?(Integer)
      raise RangeError, "buckets #{buckets} is outside 0..2**32-1" unless buckets.between?(0, 2**32 - 1)

      buckets
    end

    # A value is stored as the bytes of a String, whatever their encoding;
    # objects that convert implicitly (#to_str) are accepted too.
    def string_value(value)
      String.try_convert(value) or raise TypeError, "value must be a String, not #{value.class}"
    end

    # A copy of bytes in native memory, for calls that release the GVL and
    # so must not read a Ruby object's memory.
    def native_bytes(bytes)
      memory = FFI::MemoryPointer.new(:uint8, [bytes.bytesize, 1].max)
      memory.put_bytes(0, bytes)
      memory
    end

    # Batches: an Array or any Enumerable (a Range of offsets, ...).
    def list_arg(list)
      raise TypeError, "expected an Array, not #{list.class}" unless list.is_a?(Enumerable)

      list.to_a
    end

    # Namespaces and ids: nil, a String or a Symbol. A NUL byte in one
    # raises ArgumentError (from ffi), as it does for File.open.
    def name_arg(name)
      case name
      when nil, String then name
      when Symbol then name.to_s
      else raise TypeError, "a namespace or id must be a String or nil, not #{name.class}"
      end
    end

    def offset_arg(offset)
      raise TypeError, "an offset must be an Integer, not #{offset.class}" unless offset.is_a?(Integer)
      raise RangeError, "offset #{offset} is outside 0..2**64-1" unless offset.between?(0, MAX_OFFSET)

      offset
    end
  end
end
