# frozen_string_literal: true

module Roche
  # The native roche_db behind a DB, with what keeps every use of it safe:
  # calls count themselves in and out, close waits for the ones in flight,
  # and every call after close raises Roche::Closed. Scan iterators and
  # followers are registered here because libroche wants them freed before
  # the store is closed, whether by #close or by the garbage collector. A
  # follower is freed, and woken, only under the handle's lock, so a wake
  # from another thread never reaches a freed follower.
  #
  # A forked child inherits the handle, but the store stays the parent's:
  # in the child every call raises Closed, and neither close nor the
  # finalizer run roche_close(), which would trim the bucket files under the
  # parent's mappings (the parent's next append would die of SIGBUS).
  class Handle
    # Frees the open followers and scans, then closes the store. It holds
    # the registries but never the DB or the Handle: a releaser that referred
    # to them would keep them alive, and the store would never be collected.
    Releaser = Struct.new(:scans, :followers, :owner_pid) do
      def call(pointer)
        return Native::OK unless Process.pid == owner_pid

        followers.each_value { |follower| Native.roche_follow_free(follower) }
        followers.clear
        scans.each_value { |scan| Native.roche_scan_free(scan) }
        scans.clear
        Native.roche_close(pointer)
      end
    end

    # Output words of the short calls (DB#get, DB#append): view, data,
    # length or the offset. One set per handle is enough, as short calls
    # run one at a time under the lock.
    SCRATCH_WORDS = 3

    # The store's address, for the short calls' uintptr_t argument.
    attr_reader :address

    def initialize(raw_pointer)
      @address = raw_pointer.address
      @scratch = FFI::MemoryPointer.new(:uint64, SCRATCH_WORDS)
      @scratch_at = @scratch.address
      @scans = {}
      @followers = {}
      @owner_pid = Process.pid
      @releaser = Releaser.new(@scans, @followers, @owner_pid)
      @pointer = FFI::AutoPointer.new(raw_pointer, @releaser)
      @mutex = Mutex.new
      @idle = ConditionVariable.new
      @calls_in_flight = 0
      @closing = false
    end

    def closed?
      @closing || forked?
    end

    # Run the block with the native pointer; raises Closed after close.
    def use
      enter
      begin
        yield @pointer
      ensure
        leave
      end
    end

    # Short native calls (ones that keep the GVL, as DB#get and DB#append)
    # run inline in DB under this lock, taken once per call: a close waits
    # for them, and they see a close (#closing). #use takes the lock twice
    # (in and out) and reads the process id, costs that matter for a call
    # of half a microsecond. The process id is not checked there: in a
    # forked child libroche answers EINVAL to every call on the parent's
    # store, and #failed turns that into Closed. The scratch words hold
    # their outputs (view, data, length, or the offset): one set per
    # handle is enough, as those calls run one at a time under the lock.
    attr_reader :mutex, :scratch, :scratch_at

    # True once #close began (a forked child's calls fail in libroche). An
    # attr_reader: the short calls read it every time, and Ruby reads an
    # attribute for less than it runs a method.
    attr_reader :closing

    # The exception for a failed call: Closed in a forked child (libroche
    # refused the parent's store), else libroche's error with its detail,
    # read on this thread right after the call.
    def failed(code, offset: nil)
      return Closed.new("the store belongs to process #{@owner_pid}; open it again after fork") if forked?

      Roche.error_for(code, Native.roche_last_error, offset: offset)
    end

    # Close once; later calls return nil. Returns roche_close()'s code.
    def close
      @mutex.synchronize do
        return nil if @closing

        @closing = true
        # A forked child has no threads in flight, whatever the counter
        # says, and must leave the parent's store alone.
        return nil if forked?

        # A follower waiting for records returns at once instead of at the
        # end of its slice.
        @followers.each_value { |follower| Native.roche_follow_wake(follower) }
        @idle.wait(@mutex) while @calls_in_flight.positive?
        # Disarm the finalizer before releasing, so an interrupt in between
        # can only leak the handle, never free it twice. Releasing under the
        # lock keeps #free_scan from freeing a scan the releaser frees.
        @pointer.autorelease = false
        @releaser.call(@pointer)
      end
    end

    def register_scan(scan)
      @mutex.synchronize { @scans[scan.address] = scan }
    end

    # Free a scan unless close already did.
    def free_scan(scan)
      @mutex.synchronize do
        Native.roche_scan_free(scan) if @scans.delete(scan.address) && !forked?
      end
    end

    def register_follower(follower)
      @mutex.synchronize { @followers[follower.address] = follower }
    end

    # Free a follower unless close already did. No call may be inside it:
    # Roche::Follower frees it under its own lock.
    def free_follower(follower)
      @mutex.synchronize do
        Native.roche_follow_free(follower) if @followers.delete(follower.address) && !forked?
      end
    end

    # Wake a follower from any thread; false when it was freed already (or
    # belongs to the parent of this forked process).
    def wake_follower(follower)
      @mutex.synchronize do
        return false if forked? || !@followers.key?(follower.address)

        Roche.check(Native.roche_follow_wake(follower))
        true
      end
    end

    private

    def enter
      @mutex.synchronize do
        raise Closed if @closing
        raise Closed, "the store belongs to process #{@owner_pid}; open it again after fork" if forked?

        @calls_in_flight += 1
      end
    end

    def forked?
      Process.pid != @owner_pid
    end

    def leave
      @mutex.synchronize do
        @calls_in_flight -= 1
        @idle.broadcast if @calls_in_flight.zero?
      end
    end
  end
  private_constant :Handle
end
