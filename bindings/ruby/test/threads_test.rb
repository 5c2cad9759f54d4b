# frozen_string_literal: true

require "test_helper"

# One store shared by several Ruby threads.
class ThreadsTest < RocheTest
  THREADS = 6
  ROUNDS = 200

  def test_threads_append_and_read_at_once
    open_store(buckets: 4) do |db|
      written = Array.new(THREADS) do |t|
        Thread.new { write_and_check(db, "thread #{t}") }
      end.map(&:value)
      expected = written.flatten(1).to_h
      assert_equal THREADS * ROUNDS * 3, expected.size
      read = db.multi_get(expected.keys)
      assert_equal expected.values, read
      assert_equal expected.size, db.each.count
    end
  end

  def test_each_thread_sees_its_own_error_detail
    open_store do |db|
      db.append("x")
      errors = Array.new(THREADS) do |t|
        Thread.new do
          bad_offset = 1_000_000 + t
          Array.new(ROUNDS) do
            db.append("keeps the other threads busy")
            db.get(bad_offset)
          rescue Roche::NotFound => e
            e.message
          end
        end
      end.map(&:value)
      errors.each_with_index do |messages, t|
        # "offset N is past the end" or, when no append reached bucket 0,
        # "offset N: bucket 0 ... has no file".
        assert(messages.all? { |message| message.match?(/offset #{1_000_000 + t}\b/) }, messages.uniq.inspect)
      end
    end
  end

  def test_close_while_other_threads_work
    db = open_store
    offsets = db.append_many(Array.new(100) { |i| "value #{i}" })
    started = Queue.new
    workers = Array.new(THREADS) do |t|
      Thread.new do
        loop do
          db.append_many(%w[a b c])
          db.multi_get(offsets)
          db.each.first(3)
          started << t
        end
      rescue Roche::Closed => e
        e
      end
    end
    THREADS.times { started.pop }
    db.close
    workers.map(&:value).each { |result| assert_instance_of Roche::Closed, result }
    open_store(&:close) # the lock was released
  end

  private

  # Appends single values and batches, reading each back; returns
  # [offset, value] pairs.
  def write_and_check(db, prefix)
    Array.new(ROUNDS) do |i|
      value = "#{prefix} value #{i}\0".b
      offset = db.append(value)
      batch = ["#{prefix} batch #{i} a".b, "#{prefix} batch #{i} b".b]
      batch_offsets = db.append_many(batch, id: prefix)
      raise "read back differs" unless db.get(offset) == value && db.multi_get(batch_offsets) == batch

      [[offset, value], *batch_offsets.zip(batch)]
    end.flatten(1)
  end
end
