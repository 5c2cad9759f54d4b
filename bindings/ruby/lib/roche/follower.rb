# frozen_string_literal: true

module Roche
  # Reads a namespace as a log: every record of every bucket, each bucket in
  # offset order, once, with no gaps, waiting for records still to come
  # (from this process or another). Made by DB#follow. Records are the
  # Arrays DB#each yields: [offset, value, time].
  #
  # One thread reads a follower at a time (#next, #each, #position and
  # #commit take its lock); #wake and #close may come from any thread.
  #
  # Waits release the GVL. They are cut into slices of at most SLICE
  # seconds, each a native wait that an append ends at once: between two
  # slices Ruby delivers Thread#raise, Thread#kill, Timeout and Ctrl-C, so
  # they end a wait within SLICE (ruby-ffi cannot interrupt a native wait,
  # and a wake from Ruby's side would need the waiting thread's help). An
  # idle follower so makes ten calls a second, not a busy loop.
  #
  # Records are fetched in batches and handed out one by one; #position
  # counts only the records handed out. Exceptions from other threads are
  # deferred while a batch is fetched and copied, and let in only while the
  # follower waits with nothing in hand or inside #each's block, so they
  # never lose a record there. (#next can be interrupted as it returns, as
  # any method can: that record counts as handed out.)
  class Follower
    include Enumerable

    SLICE = 0.1
    BATCH = 128
    private_constant :BATCH

    # The namespace followed (nil: the default one).
    attr_reader :namespace

    private_class_method :new

    # Made by DB#follow only: handle is the store's, pointer a follower
    # registered with it.
    def initialize(handle, pointer, namespace)
      @handle = handle
      @pointer = pointer
      @namespace = namespace
      @lock = Mutex.new
      @closed = false
      @buffer = []
      # Output arrays of roche_follow_next_batch(), reused by every call.
      @offsets = FFI::MemoryPointer.new(:uint64, BATCH)
      @data = FFI::MemoryPointer.new(:pointer, BATCH)
      @lengths = FFI::MemoryPointer.new(:size_t, BATCH)
      @times = FFI::MemoryPointer.new(:uint64, BATCH)
      @count = FFI::MemoryPointer.new(:size_t)
    end

    # The next record, [offset, value, time], waiting up to timeout seconds
    # (nil: until one comes; 0: not at all); nil when none came in time.
    # Raises Roche::Canceled when #wake ended the wait, Roche::Dropped (with
    # #offset) when retention dropped records it had not read yet, and
    # Roche::Corrupt (with #offset) for a damaged record; after either the
    # follower goes on with the next record.
    def next(timeout: nil)
      deadline = deadline_for(timeout)
      Thread.handle_interrupt(Object => :never) { take(deadline) }
    end

    # Yield each record, [offset, value, time], as it comes: an endless walk
    # that #wake ends (each then returns self), as does an exception.
    # With timeout (seconds), it ends once nothing new came for that long.
    # Roche::Dropped and Roche::Corrupt are raised; calling each again goes
    # on after them. Without a block, returns an Enumerator.
    def each(timeout: nil)
      return enum_for(__method__, timeout: timeout) unless block_given?

      deadline_for(timeout) # checks it before the first wait
      Thread.handle_interrupt(Object => :never) do
        loop do
          record = begin
            take(deadline_for(timeout))
          rescue Canceled
            nil
          end
          return self unless record

          Thread.handle_interrupt(Object => :immediate) { yield record }
        end
      end
    end

    # End the wait of #next or #each now, from any thread; with no wait
    # under way, the next one ends at once. Raises Roche::Closed once the
    # follower (or its store) is closed.
    def wake
      raise Closed, "the follower is closed" if @closed
      raise Closed unless @handle.wake_follower(@pointer)

      nil
    end

    # Where the follower goes on: one offset per bucket (bucket i's at
    # index i), the offset after the last record handed out. DB#follow(from:)
    # with it, or a cursor committed from it, goes on with no record missed
    # and none seen twice.
    def position
      @lock.synchronize { current_position }
    end

    # Commit #position to the cursor named name (see DB#commit_cursor).
    def commit(cursor)
      cursor = Roche.cursor_name(cursor)
      @lock.synchronize do
        if @buffer.empty?
          use { Roche.check(Native.roche_follow_commit(@pointer, cursor)) }
        else
          offsets = current_position
          list = FFI::MemoryPointer.new(:uint64, [offsets.size, 1].max)
          list.write_array_of_uint64(offsets)
          @handle.use { |db| Roche.check(Native.roche_cursor_commit(db, @namespace, cursor, list, offsets.size)) }
        end
      end
      nil
    end

    # Free the follower. A wait under way on another thread ends with
    # Roche::Closed. A second close does nothing; every other call raises
    # Roche::Closed afterwards. Closing the store closes its followers.
    def close
      return nil if @closed

      @closed = true
      @handle.wake_follower(@pointer)
      @lock.synchronize do
        @buffer.clear
        @handle.free_follower(@pointer)
      end
      nil
    end

    def closed?
      @closed || @handle.closed?
    end

    def inspect
      "#<#{self.class} namespace=#{@namespace.inspect}#{closed? ? ' closed' : ''}>"
    end

    private

    # The next record from the buffer, filled when empty; nil when the
    # deadline passed. Runs with interrupts deferred.
    def take(deadline)
      @lock.synchronize do
        loop do
          raise Closed, "the follower is closed" if @closed
          return @buffer.shift unless @buffer.empty?
          return nil unless fetch(deadline)
        end
      end
    end

    # Native waits (slices) until records came, copied into the buffer:
    # true; false once the deadline passed. Between slices, with the buffer
    # empty, an exception from another thread may come in.
    def fetch(deadline)
      loop do
        Thread.handle_interrupt(Object => :immediate) {} if Thread.pending_interrupt?
        wait = slice_ms(deadline)
        code = fetch_batch(wait)
        return true if code == Native::OK
        return false if wait.zero? || (deadline && Process.clock_gettime(Process::CLOCK_MONOTONIC) >= deadline)
      end
    end

    # roche_follow_next_batch() and the copy of its records, under the
    # store's guard; the code, OK or ETIMEDOUT, anything else raised.
    def fetch_batch(wait)
      use do
        code = Native.roche_follow_next_batch(@pointer, wait, BATCH, @offsets, @data, @lengths, @times, @count)
        case code
        when Native::OK then copy_batch
        when Native::ETIMEDOUT then code
        when Native::ECANCELED
          # Woken by close (this follower's or the store's), or by #wake.
          raise Closed, "the follower is closed" if @closed
          raise Closed if @handle.closed?

          Roche.check(code)
        else
          offset = @count.read(:size_t).positive? ? @offsets.read_uint64 : nil
          Roche.check(code, offset: offset)
        end
      end
    end

    def copy_batch
      count = @count.read(:size_t)
      offsets = @offsets.read_array_of_uint64(count)
      data = @data.read_array_of_pointer(count)
      lengths = @lengths.read_array_of_ulong(count)
      times = @times.read_array_of_uint64(count)
      count.times do |i|
        value = lengths[i].zero? ? String.new(encoding: Encoding::BINARY) : data[i].read_bytes(lengths[i])
        @buffer << [offsets[i], value, Time.at(0, times[i], :nanosecond)]
      end
      Native::OK
    end

    # The native position, moved back to the first record still in the
    # buffer for each bucket that has one (records of a bucket come in
    # order, so that record is where the bucket goes on).
    def current_position
      raise Closed, "the follower is closed" if @closed

      count = FFI::MemoryPointer.new(:size_t)
      offsets = use do
        Roche.check(Native.roche_follow_position(@pointer, nil, 0, count))
        size = count.read(:size_t)
        list = FFI::MemoryPointer.new(:uint64, [size, 1].max)
        Roche.check(Native.roche_follow_position(@pointer, list, size, count))
        list.read_array_of_uint64([size, count.read(:size_t)].min)
      end
      seen = {}
      @buffer.each do |offset, _value, _time|
        bucket = offset >> Native::OFFSET_BITS
        next if seen[bucket]

        seen[bucket] = true
        offsets[bucket] = offset if bucket < offsets.size
      end
      offsets
    end

    # The follower's native calls, refused once it or its store is closed.
    def use
      raise Closed, "the follower is closed" if @closed

      @handle.use { yield }
    end

    # Milliseconds for the next native wait: the time left, at most SLICE.
    def slice_ms(deadline)
      return (SLICE * 1000).to_i unless deadline

      left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
      return 0 unless left.positive?

      [(left * 1000).ceil, (SLICE * 1000).to_i].min
    end

    def deadline_for(timeout)
      return nil if timeout.nil?
      unless timeout.is_a?(Numeric) && timeout.real?
        raise TypeError, "timeout must be a number of seconds or nil, not #{timeout.class}"
      end
      Roche.invalid("timeout must be at least 0, not #{timeout}") if timeout.negative? || timeout.to_f.nan?
      return nil if timeout.to_f.infinite?

      Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    end
  end
end
