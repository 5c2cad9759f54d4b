# frozen_string_literal: true

require "test_helper"

# DB#each fetches records in batches (roche_scan_next_batch: 64 first, then
# up to 1024 or about 1 MiB a call) and yields them one by one; followers
# fetch up to 128 a call. Batch boundaries, values, resuming, a walk
# during appends, and what close_namespace or a wake does to records
# fetched and not yielded yet.
class BatchTest < RocheTest
  # Value i: its number, a NUL and i % 7 more bytes; value 0 is empty.
  def value(i)
    i.zero? ? "".b : ([i].pack("Q<") + "\0" + "x" * (i % 7)).b
  end

  # n records over 4 buckets (by id); {offset => value}.
  def fill(db, namespace, n, ids: 4)
    (0...n).to_h { |i| [db.append(value(i), id: "id-#{i % ids}", namespace: namespace), value(i)] }
  end

  def test_each_at_batch_boundaries
    open_store do |db|
      [0, 1, 64, 65, 1024, 1025, 2051].each do |n|
        expected = fill(db, "n#{n}", n)
        seen = []
        db.each(namespace: "n#{n}") do |offset, value, time|
          assert_equal expected.fetch(offset), value, "value at #{offset}"
          assert_equal Encoding::BINARY, value.encoding
          assert_kind_of Time, time
          seen << offset
        end
        assert_equal expected.keys.sort, seen, "#{n} records, each once, in offset order"
      end
    end
  end

  def test_resume_at_last_plus_one_and_enumerator
    open_store do |db|
      offsets = fill(db, "r", 300).keys.sort
      head = db.each(namespace: "r").first(100).map(&:first)
      assert_equal offsets[0, 100], head
      rest = db.each(namespace: "r", from: head.last + 1).map(&:first)
      assert_equal offsets[100..], rest, "no gap, no repeat"
      walk = db.each(namespace: "r")
      assert_equal offsets[0], walk.next[0]
      assert_equal offsets[1], walk.next[0]
    end
  end

  def test_large_values_come_in_smaller_batches
    open_store do |db|
      values = Array.new(12) { |i| (i.chr * (300 * 1024 + i)).b }
      offsets = values.map { |v| db.append(v, namespace: "big") }
      assert_equal offsets.zip(values), db.each(namespace: "big").map { |o, v, _| [o, v] }
    end
  end

  def test_a_walk_while_another_thread_appends_ends
    open_store do |db|
      before = fill(db, "busy", 3000).keys
      # The writer hands the lock over after each append, so the walk runs
      # beside it rather than racing a writer that grows the bucket by
      # millions per time slice; capped, so a walk that never ended shows
      # as the writer having finished first.
      stop = false
      writer = Thread.new do
        200_000.times do
          break if stop
          db.append("more", namespace: "busy")
          Thread.pass
        end
      end
      seen = db.each(namespace: "busy").map(&:first)
      still_writing = writer.alive?
      stop = true
      writer.join
      assert still_writing, "the walk ended while the other thread was still appending"
      assert_empty before - seen, "every record there before the walk"
      assert_equal seen.sort.uniq, seen, "increasing, no repeat"
    end
  end

  def test_close_or_delete_namespace_ends_a_walk_mid_batch
    %i[close_namespace delete_namespace].each do |call|
      open_store do |db|
        fill(db, "short", 50)
        seen = 0
        assert_raises(Roche::NotFound, call.to_s) do
          db.each(namespace: "short") do
            seen += 1
            db.public_send(call, namespace: "short")
          end
        end
        assert_equal 1, seen, "#{call}: nothing yielded after it"
      end
    end
    open_store do |db|
      offsets = fill(db, "kept", 20).keys.sort
      fill(db, "other", 1)
      seen = []
      db.each(namespace: "kept") do |offset, _value, _time|
        seen << offset
        db.close_namespace(namespace: "other") if seen.size == 1
      end
      assert_equal offsets, seen, "another namespace's close drops nothing"
    end
  end

  def test_follower_at_its_batch_boundaries_with_timeout_and_wake
    open_store do |db|
      [1, 128, 129, 300].each do |n|
        expected = fill(db, "f#{n}", n)
        db.follow(namespace: "f#{n}") do |follower|
          seen = {}
          while (record = follower.next(timeout: 0))
            offset, value, = record
            refute seen.key?(offset), "no repeat"
            seen[offset] = value
          end
          assert_equal expected, seen
          started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
          assert_nil follower.next(timeout: 0.05)
          assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - started, :>=, 0.04
          waker = Thread.new { sleep 0.1; follower.wake }
          assert_raises(Roche::Canceled) { follower.next(timeout: 30) }
          waker.join
        end
      end
    end
  end
end
