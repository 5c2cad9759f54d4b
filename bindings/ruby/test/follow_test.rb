# frozen_string_literal: true

require "test_helper"

# Following a namespace: records as they are appended, in this process and
# others; waits that time out, wake, and end by Thread#raise and
# Thread#kill; restarts from a position with nothing missed or repeated.
class FollowTest < RocheTest
  NS = "log"

  # A read-only follower in another process: reads ARGV[2] records and
  # checks, per bucket, that each starts where the last ended (no gap, no
  # repeat) and that no value comes twice.
  FOLLOWER_CHILD = <<~'RUBY'
    require "roche"
    root, ns, count = ARGV[0], ARGV[1], Integer(ARGV[2])
    Roche.open(root, read_only: true) do |db|
      db.follow(namespace: ns) do |follower|
        puts "ready"
        $stdout.flush
        next_position = Hash.new(0)
        seen = {}
        follower.each(timeout: 30).first(count).each do |offset, value, _time|
          bucket = offset >> 50
          raise "gap or repeat at #{offset}" unless (offset & (2**50 - 1)) == next_position[bucket]
          raise "repeated #{value}" if seen[value]

          next_position[bucket] += 16 + value.bytesize
          seen[value] = true
        end
        puts "read #{seen.size}"
      end
    end
  RUBY

  def test_follow_existing_then_new
    open_store(buckets: 1) do |db|
      offsets = db.append_many(%w[a bb], namespace: NS)
      db.follow(namespace: NS) do |follower|
        assert_equal NS, follower.namespace
        assert_equal [offsets[0], "a"], follower.next(timeout: 0).first(2)
        offset, value, time = follower.next
        assert_equal [offsets[1], "bb", Encoding::BINARY], [offset, value, value.encoding]
        assert_kind_of Time, time
        assert_nil follower.next(timeout: 0)
        started = monotonic
        assert_nil follower.next(timeout: 0.05)
        assert_operator monotonic - started, :>=, 0.045
        later = db.append("ccc", namespace: NS)
        assert_equal [later, "ccc"], follower.next(timeout: 5).first(2)
      end
    end
  end

  def test_follower_is_enumerable_and_waits_for_appends
    open_store(buckets: 4) do |db|
      follower = db.follow(namespace: NS) # before the namespace has a record
      writer = Thread.new do
        sleep 0.1
        10.times { |i| db.append("v#{i}", id: "id#{i % 3}", namespace: NS) }
      end
      values = follower.first(10).map { |_offset, value, _time| value }
      writer.join
      assert_equal Array.new(10) { |i| "v#{i}" }.sort, values.sort
      assert_equal [], follower.each(timeout: 0).to_a
      db.append("x", namespace: NS)
      assert_equal ["x"], follower.each(timeout: 0.05).map { |record| record[1] }
      db.append("y", namespace: NS)
      assert_equal ["y"], follower.lazy.map { |_offset, value, _time| value }.first(1)
      follower.close
    end
  end

  def test_from_end_and_from_offsets
    open_store(buckets: 1) do |db|
      old = db.append_many(%w[old1 old2 old3], namespace: NS)
      db.follow(namespace: NS, from_end: true) do |follower|
        assert_nil follower.next(timeout: 0)
        db.append("new", namespace: NS)
        assert_equal "new", follower.next(timeout: 1)[1]
      end
      db.follow(namespace: NS, from: [old[1]]) do |follower|
        assert_equal %w[old2 old3 new], follower.each(timeout: 0).map { |record| record[1] }
      end
    end
  end

  def test_wake_ends_a_wait_from_another_thread
    open_store do |db|
      follower = db.follow(namespace: NS)
      waiter = Thread.new { follower.each.to_a }
      sleep 0.1
      assert waiter.alive?
      started = monotonic
      assert_nil follower.wake
      assert_equal [], waiter.value # each returns when woken
      assert_operator monotonic - started, :<, 5
      # next raises Canceled; a wake with no one waiting is kept for the
      # next wait, and used once.
      follower.wake
      error = assert_raises(Roche::Canceled) { follower.next }
      assert_equal Roche::Native::ECANCELED, error.code
      assert_nil follower.next(timeout: 0)
      follower.close
      assert_raises(Roche::Closed) { follower.wake }
    end
  end

  def test_thread_raise_and_kill_end_a_wait_and_lose_nothing
    open_store do |db|
      db.follow(namespace: NS) do |follower|
        waiter = Thread.new do
          follower.next
        rescue RuntimeError => e
          e
        end
        sleep 0.2
        started = monotonic
        waiter.raise(RuntimeError, "stop waiting")
        assert_equal "stop waiting", waiter.value.message
        assert_operator monotonic - started, :<, 2, "Thread#raise waited for the native wait"

        killed = Thread.new { follower.each { flunk "no record was appended" } }
        sleep 0.2
        started = monotonic
        killed.kill
        killed.join
        assert_operator monotonic - started, :<, 2, "Thread#kill waited for the native wait"

        # The follower is intact and has lost nothing.
        offset = db.append("after", namespace: NS)
        assert_equal [offset, "after"], follower.next(timeout: 5).first(2)
      end
    end
  end

  # Interrupts land inside each's block or in its waits, never between a
  # batch fetched and the records handed out: restarting from position
  # after each Thread#raise sees every record exactly once.
  def test_thread_raise_during_a_stream_of_records_loses_none
    open_store(buckets: 4) do |db|
      total = 3000
      writer = Thread.new do
        (0...total).each_slice(100) do |slice|
          slice.each { |i| db.append("v#{i}", id: "id#{i % 5}", namespace: NS) }
          sleep 0.005
        end
      end
      seen = []
      position = nil
      20.times do # rounds of following, each cut short by Thread#raise
        follower = db.follow(namespace: NS, from: position)
        started = Queue.new
        reader = Thread.new do
          started << true # a raise before the thread ran its block would miss the rescue
          follower.each { |_offset, value, _time| seen << value }
        rescue RuntimeError
          nil
        end
        started.pop
        sleep 0.01
        reader.raise(RuntimeError, "interrupted")
        reader.join
        position = follower.position
        follower.close
      end
      writer.join
      db.follow(namespace: NS, from: position) { |follower| seen.concat(follower.each(timeout: 0).map { |r| r[1] }) }
      assert_equal total, seen.size
      assert_equal Array.new(total) { |i| "v#{i}" }.sort, seen.sort
    end
  end

  def test_restart_from_position_misses_nothing
    values = Array.new(400) { |i| "v#{i}#{'.' * (i % 37)}" }
    open_store(buckets: 4) do |db|
      values.each_with_index { |value, i| db.append(value, id: "id#{i % 7}", namespace: NS) }
    end
    first_part = []
    position = nil
    open_store(buckets: 4) do |db|
      db.follow(namespace: NS) do |follower|
        150.times { first_part << follower.next(timeout: 0)[1] }
        position = follower.position
      end
      assert_equal 4, position.size
    end
    more = Array.new(100) { |i| "w#{i}" }
    open_store(buckets: 4) do |db| # reopened in between
      db.append_many(more, id: "x", namespace: NS)
      rest = db.follow(namespace: NS, from: position) { |follower| follower.each(timeout: 0).map { |r| r[1] } }
      assert_equal (values + more).sort, (first_part + rest).sort # each exactly once
    end
  end

  def test_follow_across_processes_a_ruby_child_follows
    open_store(buckets: 8) do |db|
      db.append("v0", id: "k0", namespace: NS) # the namespace exists
      count = 3000
      command = [RbConfig.ruby, "-I", LIB_DIR, "-e", FOLLOWER_CHILD, @root, NS, (count + 1).to_s]
      IO.popen(command, "r+", err: %i[child out]) do |child|
        assert_equal "ready\n", child.gets
        (1..count).each { |i| db.append("v#{i}", id: "k#{i % 5}", namespace: NS) }
        assert_equal "read #{count + 1}\n", child.read
      end
      assert_predicate $?, :success?
    end
  end

  def test_follow_across_processes_a_forked_child_appends
    open_store(buckets: 4) { |db| db.append("first", namespace: NS) }
    reader = open_store(read_only: true)
    follower = reader.follow(namespace: NS)
    assert_equal "first", follower.next(timeout: 0)[1]
    child = fork do
      begin
        follower.next(timeout: 0)
        exit!(3) # the parent's follower worked in the child
      rescue Roche::Closed
        nil
      end
      Roche.open(@root) do |db|
        500.times { |i| db.append("child #{i}", id: "id#{i % 3}", namespace: NS) }
      end
      exit!(0)
    rescue Exception # rubocop:disable Lint/RescueException
      exit!(4)
    end
    values = follower.each(timeout: 10).first(500).map { |record| record[1] }
    Process.wait(child)
    assert_predicate $?, :success?
    assert_equal Array.new(500) { |i| "child #{i}" }.sort, values.sort
    per_id = values.group_by { |value| Integer(value[/\d+/]) % 3 }
    per_id.each_value { |list| assert_equal list.sort_by { |v| Integer(v[/\d+/]) }, list } # in order per bucket
    follower.close
    reader.close
  end

  def test_closing_the_store_ends_a_wait_and_its_followers
    db = open_store
    follower = db.follow(namespace: NS)
    waiter = Thread.new do
      follower.next
    rescue Roche::Closed => e
      e
    end
    sleep 0.1
    db.close
    assert_instance_of Roche::Closed, waiter.value
    assert_predicate follower, :closed?
    assert_raises(Roche::Closed) { follower.next(timeout: 0) }
    assert_raises(Roche::Closed) { follower.position }
    assert_raises(Roche::Closed) { follower.wake }
    assert_raises(Roche::Closed) { follower.commit("c") }
    assert_nil follower.close
    assert_nil follower.close
  end

  def test_closing_a_follower_inside_each_or_from_another_thread
    open_store do |db|
      db.append_many(%w[a b c], namespace: NS)
      follower = db.follow(namespace: NS)
      seen = []
      assert_raises(Roche::Closed) do
        follower.each do |_offset, value, _time|
          seen << value
          follower.close
        end
      end
      assert_equal ["a"], seen
      follower = db.follow(namespace: NS, from_end: true)
      waiter = Thread.new do
        follower.next
      rescue Roche::Closed => e
        e
      end
      sleep 0.1
      follower.close
      assert_instance_of Roche::Closed, waiter.value
    end
  end

  def test_follow_bad_arguments
    open_store do |db|
      assert_raises(TypeError) { db.follow(namespace: 5) }
      assert_raises(TypeError) { db.follow(from: 5) }
      assert_raises(TypeError) { db.follow(from: ["0"]) }
      assert_raises(Roche::InvalidArgument) { db.follow(from: [-1]) }
      assert_raises(TypeError) { db.follow(cursor: 1.5) }
      assert_raises(Roche::InvalidArgument) { db.follow(from: [0], cursor: "c") }
      assert_raises(Roche::InvalidArgument) { db.follow(namespace: "nul\0") }
      assert_raises(Roche::InvalidArgument) { db.follow(namespace: "a/b") }
      assert_raises(Roche::InvalidArgument) { db.follow(cursor: "a/b") }
      db.follow(namespace: NS) do |follower|
        assert_raises(TypeError) { follower.next(timeout: "1") }
        assert_raises(TypeError) { follower.next(timeout: Complex(1, 1)) }
        assert_raises(Roche::InvalidArgument) { follower.next(timeout: -1) }
        assert_raises(Roche::InvalidArgument) { follower.each(timeout: -1) {} }
        assert_raises(TypeError) { follower.commit(nil) }
        assert_raises(Roche::InvalidArgument) { follower.commit("a/b") }
        assert_nil follower.next(timeout: 0)
      end
    end
    open_store(&:close)
    Roche.open(@root, read_only: true) do |reader|
      assert_raises(Roche::NotFound) { reader.follow(namespace: "nothing") }
    end
  end

  def test_forgotten_followers_are_freed_with_their_store
    db = open_store
    3.times { db.follow(namespace: NS).next(timeout: 0) }
    db.close # frees them before roche_close
    open_store(&:close)
  end

  private

  def monotonic
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end
end
