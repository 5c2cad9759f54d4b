# frozen_string_literal: true

module Roche
  # The native roche_db behind a DB, with what keeps every use of it safe:
  # calls count themselves in and out, close waits for the ones in flight,
  # and every call after close raises Roche::Closed. Scan iterators are
  # registered here because libroche wants them freed before the store is
  # closed, whether by #close or by the garbage collector.
  #
  # A forked child inherits the handle, but the store stays the parent's:
  # in the child every call raises Closed, and neither close nor the
  # finalizer run roche_close(), which would trim the bucket files under the
  # parent's mappings (the parent's next append would die of SIGBUS).
  class Handle
    # Frees the open scans, then closes the store. It holds the scan registry
    # but never the DB or the Handle: a releaser that referred to them would
    # keep them alive, and the store would never be collected.
    Releaser = Struct.new(:scans, :owner_pid) do
      def call(pointer)
        return Native::OK unless Process.pid == owner_pid

        scans.each_value { |scan| Native.roche_scan_free(scan) }
        scans.clear
        Native.roche_close(pointer)
      end
    end

    def initialize(raw_pointer)
      @scans = {}
      @owner_pid = Process.pid
      @releaser = Releaser.new(@scans, @owner_pid)
      @pointer = FFI::AutoPointer.new(raw_pointer, @releaser)
      @mutex = Mutex.new
      @idle = ConditionVariable.new
      @calls_in_flight = 0
      @closed = false
    end

    def closed?
      @closed || forked?
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

    # Close once; later calls return nil. Returns roche_close()'s code.
    def close
      @mutex.synchronize do
        return nil if @closed

        @closed = true
        # A forked child has no threads in flight, whatever the counter
        # says, and must leave the parent's store alone.
        return nil if forked?

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

    private

    def enter
      @mutex.synchronize do
        raise Closed if @closed
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
