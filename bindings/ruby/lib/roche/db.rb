# frozen_string_literal: true

module Roche
  # Cursor names: a String or a Symbol (the rules of namespace names).
  # Shared by DB and Follower.
  def self.cursor_name(name)
    case name
    when String then c_name(name)
    when Symbol then c_name(name.to_s)
    else raise TypeError, "a cursor name must be a String, not #{name.class}"
    end
  end

  # A name for a C string: a NUL byte would cut it short.
  def self.c_name(name)
    invalid("a NUL byte in the name #{name.inspect}") if name.include?("\0")
    name
  end

  # A bad argument value (out of range, unknown option, NUL byte in a
  # name): every one raises InvalidArgument, with libroche's code EINVAL,
  # whether the binding or libroche finds it. Wrong types raise TypeError.
  def self.invalid(message)
    raise InvalidArgument.new("#{Native.roche_strerror(Native::EINVAL)}: #{message}", code: Native::EINVAL)
  end

  # Positional arguments kept for one minor version: warn once per call
  # site (Kernel#warn: silenced by ruby -W0).
  DEPRECATION_SEEN = {}
  DEPRECATION_LOCK = Mutex.new
  private_constant :DEPRECATION_SEEN, :DEPRECATION_LOCK

  def self.deprecated(message, uplevel: 2)
    site = caller_locations(uplevel, 1)&.first&.to_s
    return if DEPRECATION_LOCK.synchronize { DEPRECATION_SEEN.key?(site) || (DEPRECATION_SEEN[site] = false) }

    warn("roche: #{message} (deprecated; removed in the next minor version)", uplevel: uplevel)
  end

  # Names libroche lists (namespaces, cursors) are directory and file
  # names: they come back as Dir.children gives them, in the file system's
  # encoding (UTF-8 under a UTF-8 locale, even when the bytes are not valid
  # UTF-8), binary when that encoding is US-ASCII and the name is not.
  def self.file_name(bytes)
    encoding = Encoding.find("filesystem")
    if encoding == Encoding::US_ASCII && !bytes.ascii_only?
      bytes.force_encoding(Encoding::BINARY)
    else
      bytes.force_encoding(encoding)
    end
  end

  # An open store. Every method may be called from several threads at once.
  # Namespaces: nil means libroche's "default" namespace. Offsets are
  # Integers. Values come back as binary (ASCII-8BIT) Strings. Enumerable
  # over the records of the default namespace (see #each).
  class DB
    include Enumerable

    SYNC_POLICIES = { never: Native::SYNC_NEVER, always: Native::SYNC_ALWAYS, periodic: Native::SYNC_PERIODIC }.freeze
    FORMATS = { roche: Native::FORMAT_ROCHE, rochefort: Native::FORMAT_ROCHEFORT }.freeze
    MAX_OFFSET = 2**64 - 1
    MAX_U32 = 2**32 - 1
    # A pointer's size, and a size_t's (unsigned long wherever ruby-ffi runs).
    WORD = FFI::Pointer.size
    RETENTION_KEYS = %i[max_age max_bytes].freeze
    NOT_GIVEN = Object.new.freeze
    # #get's reusable buffer: its first size, and the most it grows to. A
    # larger value is read into a buffer of its own, freed after the copy.
    VALUE_BUFFER_START = 4096
    VALUE_BUFFER_KEPT = 256 * 1024
    private_constant :MAX_OFFSET, :MAX_U32, :WORD, :RETENTION_KEYS, :NOT_GIVEN, :VALUE_BUFFER_START,
                     :VALUE_BUFFER_KEPT

    # Open the store at path; see Roche.open.
    def initialize(path, buckets: nil, read_only: false, sync: :never, sync_period: nil, retention: nil,
                   max_open_files: nil, format: :roche)
      path = path.to_str if path.respond_to?(:to_str) # File.path raises ArgumentError for a NUL byte
      path = File.path(path) unless path.is_a?(String) && path.include?("\0")
      Roche.invalid("the path is empty") if path.empty?
      Roche.invalid("a NUL byte in the path") if path.include?("\0")
      out = FFI::MemoryPointer.new(:pointer)
      with_options(buckets, read_only, sync, sync_period, retention, max_open_files, format) do |options|
        Roche.check(Native.roche_open(path, options, out))
      end
      @handle = Handle.new(out.read_pointer)
      # Successful close_namespace and delete_namespace calls, and the last
      # one's name (see #each).
      @namespaces_closed = 0
      @closed_namespace = nil
      @sync_always = sync == :always
      # What the short calls (get, append) use inline.
      @lock = @handle.mutex
      @address = @handle.address
      @scratch = @handle.scratch
      @scratch_at = @handle.scratch_at
      # #get's buffer, grown up to VALUE_BUFFER_KEPT; used under @lock.
      @value = FFI::MemoryPointer.new(:uint8, VALUE_BUFFER_START, false)
      @value_at = @value.address
      @value_cap = VALUE_BUFFER_START
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
    #
    # The hot path: the checks are inline, the call runs under one lock
    # (Handle#short) and writes the offset into the handle's scratch word,
    # and libroche's error detail is read only when the call failed.
    def append(value, id: nil, namespace: nil)
      value = string_value(value) unless value.instance_of?(String)
      namespace = name_arg(namespace) unless namespace.nil? || namespace.instance_of?(String)
      id = name_arg(id) unless id.nil? || id.instance_of?(String)
      return append_synced(value, id, namespace) if @sync_always

      # Mutex#lock then begin/ensure, as Monitor does: no interrupt can
      # come between the two.
      @lock.lock
      begin
        raise Closed if @handle.closing

        code = begin
          Native.roche_append_fast(@address, namespace, id, value, value.bytesize, @scratch_at)
        rescue ArgumentError => e # ffi: a NUL byte in the namespace or id
          Roche.invalid(e.message)
        end
        raise @handle.failed(code) if code < 0

        @scratch.get_uint64(0)
      ensure
        @lock.unlock
      end
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
    # One libroche call (roche_get_into) copies the checked value into this
    # DB's buffer, and one copy makes the String. The buffer is reused by
    # every get and used only under the handle's lock, with the GVL held
    # (the call does not release it), so no two threads ever share it. A
    # value that does not fit (ETOOBIG, with its length in the scratch
    # word) is read again into a larger buffer (#get_large).
    #
    # The hot path, as #append: inline checks, one lock, the handle's
    # scratch word for the length, no MemoryPointer, detail read only on
    # failure.
    def get(offset, namespace: nil)
      # The upper bound is ffi's: past 2**64 - 1 it raises RangeError
      # (rescued below), where a comparison with a Bignum here would cost
      # every call.
      offset_arg(offset) unless offset.is_a?(Integer) && offset >= 0
      namespace = name_arg(namespace) unless namespace.nil? || namespace.instance_of?(String)
      @lock.lock
      begin
        raise Closed if @handle.closing

        code = begin
          Native.roche_get_into(@address, namespace, offset, @value_at, @value_cap, @scratch_at)
        rescue ArgumentError => e # ffi: a NUL byte in the namespace
          Roche.invalid(e.message)
        rescue RangeError # ffi: an offset past 2**64 - 1
          offset_arg(offset)
        end
        return @value.get_bytes(0, @scratch.get_uint64(0)) if code == Native::OK
        return get_large(offset, namespace) if code == Native::ETOOBIG

        raise @handle.failed(code, offset: offset)
      ensure
        @lock.unlock
      end
    end

    # #get with a libroche that has no roche_get_into: the value is copied
    # once, from the store's mapping (roche_get_view) into the String, and
    # the view is released under the handle's guard whatever happens: its
    # slot starts NULL (a no-op release) and libroche leaves it NULL on
    # failure. The three output slots (view, data, length) are the
    # handle's scratch words, passed by address.
    def get_through_view(offset, namespace: nil)
      offset_arg(offset) unless offset.is_a?(Integer) && offset >= 0 && offset <= MAX_OFFSET
      namespace = name_arg(namespace) unless namespace.nil? || namespace.instance_of?(String)
      scratch = @scratch
      at = @scratch_at
      @lock.lock
      begin
        # The view's word is 0 unless this call got a view: the ensure
        # below then releases nothing (a Closed raised here must not
        # release the view of an earlier get a second time).
        scratch.put_uint64(0, 0)
        raise Closed if @handle.closing

        code = begin
          Native.roche_get_view(@address, namespace, offset, at, at + WORD, at + (2 * WORD))
        rescue ArgumentError => e # ffi: a NUL byte in the namespace
          Roche.invalid(e.message)
        end
        raise @handle.failed(code, offset: offset) if code.negative?

        scratch.get_pointer(WORD).read_bytes(scratch.get_uint64(2 * WORD))
      ensure
        begin
          view = scratch.get_uint64(0)
          scratch.put_uint64(0, 0)
          Native.roche_view_release(view) unless view.zero?
        ensure
          @lock.unlock
        end
      end
    end
    alias_method :get, :get_through_view unless Native.respond_to?(:roche_get_into)
    private :get_through_view

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
      split_values(offsets, *read_values(out.read_pointer))
    end

    # Yield [offset, value, time] (time a Time, to the nanosecond) for every
    # record in the namespace whose offset is at least from, in increasing
    # offset order. Like Hash#each, one Array is yielded, so a block takes
    # |offset, value, time| or |record|. Without a block, returns an
    # Enumerator.
    #
    # DB is Enumerable over the default namespace: db.first(3),
    # db.map { |offset, value, time| ... }; db.each(namespace: "events")
    # is an Enumerator (and Enumerable) for another one.
    def each(namespace: nil, from: nil)
      return enum_for(__method__, namespace: namespace, from: from) unless block_given?

      namespace = name_arg(namespace)
      scan = open_scan(namespace, from.nil? ? 0 : offset_arg(from))
      begin
        batch = ScanBatch.new(namespace)
        loop do
          records = scan_batch(scan, batch)
          break unless records

          epoch = @namespaces_closed
          records.each_with_index do |record, i|
            # What close or close_namespace/delete_namespace would have
            # made of a step: Closed, or libroche's answer for the rest.
            if i.positive?
              raise(@handle.closing ? Closed : @handle.failed(Native::EINVAL)) if @handle.closed? # closed, or forked
              break if epoch != @namespaces_closed && batch.closed_by?(@closed_namespace)
            end
            yield record
          end
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
    # that uses it opens it again. nil is the default namespace. The
    # positional form, close_namespace("events"), is deprecated.
    def close_namespace(legacy = NOT_GIVEN, namespace: NOT_GIVEN)
      namespace = name_arg(namespace_keyword(__method__, legacy, namespace))
      use { |db| check(Native.roche_close_namespace(db, namespace)) }
      # Walks of it drop the records they fetched: their next step is
      # libroche's ENOTFOUND, as it was when they fetched one at a time.
      @closed_namespace = namespace
      @namespaces_closed += 1
      nil
    end

    # Delete a namespace with all its records. nil is the default
    # namespace. The positional form, delete_namespace("events"), is
    # deprecated.
    def delete_namespace(legacy = NOT_GIVEN, namespace: NOT_GIVEN)
      namespace = name_arg(namespace_keyword(__method__, legacy, namespace))
      use { |db| check(Native.roche_delete_namespace(db, namespace)) }
      # Walks of it drop the records they fetched: their next step is
      # libroche's ENOTFOUND, as it was when they fetched one at a time.
      @closed_namespace = namespace
      @namespaces_closed += 1
      nil
    end

    # The namespaces under the store's root, sorted by their bytes, as
    # Dir.children would give them (see Roche.file_name): UTF-8 Strings
    # under a UTF-8 locale, so namespaces.include?("événements") works.
    def namespaces
      names = FFI::MemoryPointer.new(:pointer)
      count = FFI::MemoryPointer.new(:size_t)
      use { |db| check(Native.roche_namespaces(db, names, count)) }
      read_names(names.read_pointer, count.read(:size_t))
    end

    # Follow a namespace as a log (see Roche::Follower): every record of
    # every bucket, as it is appended, by this process or another.
    #   from:     positions to start at, one offset per bucket (as
    #             Follower#position gives); buckets not named start at their
    #             first record kept
    #   cursor:   start where the named cursor stands (from the start when
    #             it does not exist yet); not together with from:
    #   from_end: buckets with no position start at their end now
    # A writable store creates the namespace when it does not exist; a
    # read-only one raises Roche::NotFound. With a block, yields the
    # follower, closes it afterwards and returns the block's value.
    def follow(namespace: nil, from: nil, cursor: nil, from_end: false)
      namespace = name_arg(namespace)
      Roche.invalid("follow takes from: or cursor:, not both") if !from.nil? && !cursor.nil?

      cursor = Roche.cursor_name(cursor) unless cursor.nil?
      start, count = offset_list(from.nil? ? [] : from)
      flags = from_end ? Native::FOLLOW_FROM_END : 0
      follower = Follower.__send__(:new, @handle, open_follower(namespace, cursor, start, count, flags), namespace)
      return follower unless block_given?

      begin
        yield follower
      ensure
        follower.close
      end
    end

    # The cursors of a namespace, sorted. A cursor is a named position: one
    # offset per bucket (Follower#position, Follower#commit).
    def cursors(namespace: nil)
      namespace = name_arg(namespace)
      names = FFI::MemoryPointer.new(:pointer)
      count = FFI::MemoryPointer.new(:size_t)
      use { |db| check(Native.roche_cursor_list(db, namespace, names, count)) }
      read_names(names.read_pointer, count.read(:size_t))
    end

    # Commit offsets (one per bucket) to the cursor named name, creating it.
    # Read-only stores may commit cursors too.
    def commit_cursor(name, offsets, namespace: nil)
      namespace = name_arg(namespace)
      name = Roche.cursor_name(name)
      offsets, count = offset_list(offsets)
      use { |db| check(Native.roche_cursor_commit(db, namespace, name, offsets, count)) }
      nil
    end

    # The offsets a cursor holds; Roche::NotFound when there is no such
    # cursor.
    def cursor(name, namespace: nil)
      namespace = name_arg(namespace)
      name = Roche.cursor_name(name)
      list = FFI::MemoryPointer.new(:pointer)
      count = FFI::MemoryPointer.new(:size_t)
      use { |db| check(Native.roche_cursor_get(db, namespace, name, list, count)) }
      offsets = list.read_pointer
      begin
        offsets.read_array_of_uint64(count.read(:size_t))
      ensure
        Native.roche_free(offsets)
      end
    end

    # Delete a cursor; Roche::NotFound when there is no such cursor.
    def delete_cursor(name, namespace: nil)
      namespace = name_arg(namespace)
      name = Roche.cursor_name(name)
      use { |db| check(Native.roche_cursor_delete(db, namespace, name)) }
      nil
    end

    # Retention: drop, in every bucket of the namespace, the records older
    # than older_than (a Time, or ns since the epoch), then the oldest ones
    # across buckets until those kept total at most max_bytes (headers of
    # 16 bytes included). nil turns a limit off. Returns the bytes dropped.
    # Offsets of the records kept do not change; a get of a dropped one
    # raises Roche::Dropped. Raises Roche::NotSupported when the file system
    # cannot punch holes (nothing is dropped).
    def retain(namespace: nil, older_than: nil, max_bytes: nil)
      namespace = name_arg(namespace)
      older_than = time_ns(older_than)
      # libroche reads 0 as "no limit"; every record has a 16-byte header,
      # so at most 1 byte keeps nothing, as 0 asks.
      max_bytes = max_bytes.nil? ? 0 : [u64_arg(max_bytes, "max_bytes"), 1].max
      freed = FFI::MemoryPointer.new(:uint64)
      use { |db| check(Native.roche_retain(db, namespace, older_than, max_bytes, freed)) }
      freed.read_uint64
    end

    # The records bucket holds now, as the Range first...end: first is the
    # offset of its first record kept, end where its next record will go
    # (an empty Range when it holds none). The offsets between are not all
    # records: use it with get, each(from:) or follow(from:).
    def bucket_range(bucket, namespace: nil)
      namespace = name_arg(namespace)
      raise TypeError, "a bucket must be an Integer, not #{bucket.class}" unless bucket.is_a?(Integer)
      Roche.invalid("bucket #{bucket} is outside 0..2**32-1") unless bucket.between?(0, MAX_U32)

      first = FFI::MemoryPointer.new(:uint64)
      last = FFI::MemoryPointer.new(:uint64)
      use { |db| check(Native.roche_bucket_range(db, namespace, bucket, first, last)) }
      first.read_uint64...last.read_uint64
    end

    # Statistics of a namespace, as a Hash (see roche_stat_info in roche.h):
    # :buckets, :records, :bytes, :oldest_ns, :newest_ns, :damaged_ranges,
    # :damaged_bytes, :recovered_bytes, :dropped_records, :dropped_bytes.
    # The positional form, stat("events"), is deprecated.
    def stat(legacy = NOT_GIVEN, namespace: NOT_GIVEN)
      namespace = name_arg(namespace_keyword(__method__, legacy, namespace))
      info = Native::StatInfo.new
      info[:version] = Native::STAT_VERSION
      use { |db| check(Native.roche_stat(db, namespace, info)) }
      (info.members - [:version]).to_h { |field| [field, info[field]] }
    end

    private

    # namespace: as a keyword, or (deprecated) as the one positional
    # argument; not both. Neither: the default namespace.
    def namespace_keyword(method, legacy, keyword)
      return keyword == NOT_GIVEN ? nil : keyword if legacy == NOT_GIVEN
      Roche.invalid("#{method} takes the namespace once, as namespace:") unless keyword == NOT_GIVEN

      Roche.deprecated("#{method}(namespace) is #{method}(namespace: namespace) now", uplevel: 3)
      legacy
    end

    # An append that fsyncs (sync: :always) releases the GVL while it waits
    # for the disk, so it reads a copy in native memory that no Ruby thread
    # can change meanwhile, and counts itself in as the other long calls.
    def append_synced(value, id, namespace)
      offset = FFI::MemoryPointer.new(:uint64)
      use do |db|
        check(Native.roche_append_blocking(db, namespace, id, native_bytes(value), value.bytesize, offset))
      end
      offset.read_uint64
    end

    # #get of a value larger than the buffer, under the handle's lock: the
    # scratch word holds its length. Up to VALUE_BUFFER_KEPT the buffer
    # grows (and stays grown); past it, a buffer of the value's size is
    # used once and freed. Read again until it fits: the length cannot
    # change for one offset, unless the namespace was deleted and made
    # again meanwhile.
    def get_large(offset, namespace)
      loop do
        size = @scratch.get_uint64(0)
        if size <= VALUE_BUFFER_KEPT
          grown = [[size, @value_cap * 2].max, VALUE_BUFFER_KEPT].min
          @value = FFI::MemoryPointer.new(:uint8, grown, false)
          @value_at = @value.address
          @value_cap = grown
          code = Native.roche_get_into(@address, namespace, offset, @value_at, @value_cap, @scratch_at)
          return @value.get_bytes(0, @scratch.get_uint64(0)) if code.zero?
        else
          buffer = FFI::MemoryPointer.new(:uint8, size, false)
          begin
            code = Native.roche_get_into(@address, namespace, offset, buffer.address, size, @scratch_at)
            return buffer.get_bytes(0, @scratch.get_uint64(0)) if code.zero?
          ensure
            buffer.free
          end
        end
        raise @handle.failed(code, offset: offset) unless code == Native::ETOOBIG
      end
    end

    # Output arrays of roche_scan_next_batch(), reused by every batch of one
    # walk, and how many records the next batch asks for: up to MAX records,
    # about BYTES of values (the first asks for FIRST, the sizes unknown).
    BASE = FFI::Pointer.new(1)
    private_constant :BASE

    class ScanBatch
      MAX = 1024
      BYTES = 1 << 20
      FIRST = 64

      attr_reader :offsets, :data, :lengths, :times, :count
      attr_accessor :want

      def initialize(namespace)
        @namespace = namespace.nil? || namespace.empty? ? "default" : namespace
        @offsets = FFI::MemoryPointer.new(:uint64, MAX)
        @data = FFI::MemoryPointer.new(:pointer, MAX)
        @lengths = FFI::MemoryPointer.new(:size_t, MAX)
        @times = FFI::MemoryPointer.new(:uint64, MAX)
        @count = FFI::MemoryPointer.new(:size_t)
        @want = FIRST
      end

      # Whether a close_namespace or delete_namespace of name ended this walk.
      def closed_by?(name)
        (name.nil? || name.empty? ? "default" : name) == @namespace
      end
    end
    private_constant :ScanBatch

    # One roche_scan_next_batch() under the handle's guard: the records, as
    # Arrays [offset, value, time], or nil at the end of the scan. The
    # values are copied before the guard is left, as they lie in the bucket
    # file's mapping (or the scan's buffer): a close on another thread right
    # after the call would free the scan and unmap the file under a later read.
    def scan_batch(scan, batch)
      use do
        code = Native.roche_scan_next_batch(scan, batch.want, batch.offsets, batch.data, batch.lengths,
                                            batch.times, batch.count)
        next nil if code == Native::DONE

        count = batch.count.read(:size_t)
        Roche.check(code, offset: code == Native::ECORRUPT && count.positive? ? batch.offsets.read_uint64 : nil)
        scan_records(batch, count)
      end
    end

    def scan_records(batch, count)
      offsets = batch.offsets.read_array_of_uint64(count)
      # Addresses as integers, read through one Pointer (BASE, at address 1,
      # of no bounds) rather than an FFI::Pointer made for each value.
      data = batch.data.read_array_of_uint64(count)
      lengths = batch.lengths.read_array_of_ulong(count)
      times = batch.times.read_array_of_uint64(count)
      bytes = 0
      records = Array.new(count) do |i|
        size = lengths[i]
        bytes += size
        value = size.zero? ? String.new(encoding: Encoding::BINARY) : BASE.get_bytes(data[i] - 1, size)
        [offsets[i], value, Time.at(0, times[i], :nanosecond)]
      end
      batch.want = (ScanBatch::BYTES / [bytes / count, 1].max).clamp(1, ScanBatch::MAX)
      records
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

    # Open a follower and register it with the handle, in one guarded step
    # that no exception from another thread can split (an unregistered
    # follower would outlive the store).
    def open_follower(namespace, cursor, start, count, flags)
      out = FFI::MemoryPointer.new(:pointer)
      Thread.handle_interrupt(Object => :never) do
        use do |db|
          if cursor
            check(Native.roche_follow_open_cursor(db, namespace, cursor, flags, out))
          else
            check(Native.roche_follow_open(db, namespace, start, count, flags, out))
          end
          follower = out.read_pointer
          @handle.register_follower(follower)
          follower
        end
      end
    end

    # Names back to back ("a\0b\0"), as libroche lists them; freed here.
    def read_names(list, count)
      position = 0
      Array.new(count) do
        name = list.get_string(position)
        position += name.bytesize + 1
        Roche.file_name(name)
      end
    ensure
      Native.roche_free(list)
    end

    # Offsets (an Array or any Enumerable of Integers) in native memory,
    # and how many there are.
    def offset_list(offsets)
      offsets = list_arg(offsets).map { |offset| offset_arg(offset) }
      memory = FFI::MemoryPointer.new(:uint64, [offsets.size, 1].max)
      memory.write_array_of_uint64(offsets)
      [memory, offsets.size]
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

    def split_values(offsets, bytes, lengths, statuses)
      position = 0
      statuses.each_with_index.map do |status, i|
        next Roche.error_for(status, offset: offsets[i]) unless status == Native::OK

        value = bytes.byteslice(position, lengths[i])
        position += lengths[i]
        value
      end
    end

    def with_options(buckets, read_only, sync, sync_period, retention, max_open_files, format)
      policy = SYNC_POLICIES.fetch(sync) do
        Roche.invalid("sync must be one of #{SYNC_POLICIES.keys.inspect}, not #{sync.inspect}")
      end
      header_format = format_arg(format)
      Roche.invalid("sync_period: goes with sync: :periodic") if !sync_period.nil? && sync != :periodic
      options = Native.roche_options_new
      raise NoMemory, "roche_options_new failed" if options.null?

      begin
        check(Native.roche_options_set_buckets(options, u32_arg(buckets, "buckets", "between 1 and 8191"))) unless buckets.nil?
        check(Native.roche_options_set_retention(options, *retention_limits(retention))) unless retention.nil?
        check(Native.roche_options_set_read_only(options, read_only ? 1 : 0))
        check(Native.roche_options_set_sync(options, policy))
        check(Native.roche_options_set_sync_period_ms(options, period_ms(sync_period))) unless sync_period.nil?
        unless max_open_files.nil?
          check(Native.roche_options_set_max_open_files(options, u32_arg(max_open_files, "max_open_files")))
        end
        check(Native.roche_options_set_format(options, header_format)) unless header_format == Native::FORMAT_ROCHE
        yield options
      ensure
        Native.roche_options_free(options)
      end
    end

    # retention: {max_age: seconds, max_bytes: n} as libroche's (ms, bytes),
    # where 0 is "no limit": a limit of 0 given from Ruby becomes the
    # smallest one (1 ms, 1 byte), which keeps as little.
    def retention_limits(retention)
      raise TypeError, "retention must be a Hash, not #{retention.class}" unless retention.is_a?(Hash)

      unknown = retention.keys - RETENTION_KEYS
      Roche.invalid("unknown retention keys #{unknown.inspect}; known: #{RETENTION_KEYS.inspect}") unless unknown.empty?

      max_age = retention[:max_age]
      unless max_age.nil?
        unless max_age.is_a?(Numeric) && max_age.real?
          raise TypeError, "max_age must be a number of seconds, not #{max_age.class}"
        end
        Roche.invalid("max_age must be at least 0, not #{max_age}") if max_age.negative? || max_age.to_f.nan?
      end
      max_age = max_age.nil? || max_age.to_f.infinite? ? 0 : [u64_arg((max_age * 1000).ceil, "max_age in ms"), 1].max
      max_bytes = retention[:max_bytes]
      max_bytes = max_bytes.nil? ? 0 : [u64_arg(max_bytes, "max_bytes"), 1].max
      [max_age, max_bytes]
    end

    # A time as ns since the epoch: a Time, an Integer (ns) or nil (0, no
    # age limit).
    def time_ns(time)
      case time
      when nil then 0
      when Time
        ns = (time.to_i * 1_000_000_000) + time.nsec
        Roche.invalid("older_than #{time} is before the epoch") if ns.negative?

        ns
      when Integer then u64_arg(time, "older_than")
      else raise TypeError, "older_than must be a Time or an Integer (ns since the epoch), not #{time.class}"
      end
    end

    def u64_arg(value, what)
      raise TypeError, "#{what} must be an Integer, not #{value.class}" unless value.is_a?(Integer)
      Roche.invalid("#{what} #{value} is outside 0..2**64-1") unless value.between?(0, MAX_OFFSET)

      value
    end

    # format: as libroche's constant. A libroche too old to know
    # roche_options_set_format() has only the default format.
    def format_arg(format)
      code = FORMATS.fetch(format) do
        Roche.invalid("format must be one of #{FORMATS.keys.inspect}, not #{format.inspect}")
      end
      if code != Native::FORMAT_ROCHE && !Native.respond_to?(:roche_options_set_format)
        raise NotSupported.new("format: #{format.inspect}: this libroche has no roche_options_set_format()",
                               code: Native::ENOTSUP)
      end
      code
    end

    # An option libroche takes as a uint32_t; libroche checks the range it
    # allows (buckets 1..8191, max_open_files 4 or more) and answers EINVAL
    # as this does.
    def u32_arg(value, what, range = "0..2**32-1")
      raise TypeError, "#{what} must be an Integer, not #{value.class}" unless value.is_a?(Integer)
      Roche.invalid("#{what} must be #{range}, not #{value}") unless value.between?(0, MAX_U32)

      value
    end

    # sync_period: seconds (a Numeric) as libroche's milliseconds,
    # 1..3,600,000 (libroche checks the range).
    def period_ms(seconds)
      unless seconds.is_a?(Numeric) && seconds.real?
        raise TypeError, "sync_period must be a number of seconds, not #{seconds.class}"
      end
      Roche.invalid("sync_period must be a finite number of seconds") if seconds.to_f.nan? || seconds.to_f.infinite?

      u32_arg((seconds * 1000).ceil, "sync_period in ms")
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
    # raises InvalidArgument (it would cut the C string short).
    def name_arg(name)
      case name
      when nil then nil
      when String then Roche.c_name(name)
      when Symbol then Roche.c_name(name.to_s)
      else raise TypeError, "a namespace or id must be a String or nil, not #{name.class}"
      end
    end

    def offset_arg(offset)
      raise TypeError, "an offset must be an Integer, not #{offset.class}" unless offset.is_a?(Integer)
      Roche.invalid("offset #{offset} is outside 0..2**64-1") unless offset.between?(0, MAX_OFFSET)

      offset
    end
  end
end
