# frozen_string_literal: true

require "test_helper"

# Retention: records dropped by age or size, their offsets reported as
# dropped by get and to followers; the retention: open option; bucket
# ranges and the dropped counters of stat.
class RetentionTest < RocheTest
  NS = "log"
  VALUE = "z" * 2000
  RECORD = 16 + VALUE.bytesize

  def test_retain_by_size_then_get_and_follow_learn_it
    open_store(buckets: 1) do |db|
      offsets = Array.new(20) { db.append(VALUE, namespace: NS) }
      # One follower has fetched its batch (all 20, copied) before the drop;
      # the other has fetched nothing.
      fetched = db.follow(namespace: NS)
      assert_equal offsets[0], fetched.next(timeout: 0)[0]
      follower = db.follow(namespace: NS, from: [offsets[1]])
      freed = retain_or_skip(db, max_bytes: 5 * RECORD)
      assert_equal 15 * RECORD, freed
      error = assert_raises(Roche::Dropped) { db.get(offsets[3], namespace: NS) }
      assert_equal [Roche::Native::EDROPPED, offsets[3]], [error.code, error.offset]
      assert_kind_of Roche::Error, error
      assert_equal VALUE, db.get(offsets[15], namespace: NS)
      assert_kind_of Roche::Dropped, db.multi_get(offsets[14, 2], namespace: NS).first
      # The follower learns it once, where it was, and goes on.
      error = assert_raises(Roche::Dropped) { follower.next(timeout: 0) }
      assert_equal offsets[1], error.offset
      assert_equal offsets[15..], follower.each(timeout: 0).map(&:first)
      follower.close
      # What a follower had fetched before the drop it still hands out,
      # intact: it read those records before they went.
      assert_equal [VALUE] * 19, fetched.each(timeout: 0).map { |record| record[1] }
      fetched.close
      # each, walks and new followers start at the first record kept.
      assert_equal offsets[15], db.each(namespace: NS).first[0]
      assert_equal offsets[15], db.follow(namespace: NS) { |f| f.next(timeout: 0)[0] }
      assert_equal offsets[15]...(offsets[19] + RECORD), db.bucket_range(0, namespace: NS)
      stat = db.stat(namespace: NS)
      assert_equal [5, 15, 15 * RECORD], stat.values_at(:records, :dropped_records, :dropped_bytes)
    end
  end

  def test_a_waiting_follower_learns_of_a_drop_in_each
    open_store(buckets: 1) do |db|
      offsets = Array.new(10) { db.append(VALUE, namespace: NS) }
      db.follow(namespace: NS, from: [offsets[2]]) do |follower|
        retain_or_skip(db, max_bytes: 0) # keeps nothing
        assert_raises(Roche::Dropped) { follower.each(timeout: 0).to_a }
        later = db.append("later", namespace: NS)
        assert_equal [[later, "later"]], follower.each(timeout: 0).map { |r| r.first(2) }
      end
    end
  end

  def test_retain_by_age
    open_store(buckets: 2) do |db|
      old = db.append_many([VALUE] * 3, id: "a", namespace: NS)
      sleep 0.01
      cut = Time.now
      sleep 0.01
      young = db.append(VALUE, id: "a", namespace: NS)
      assert_equal 3 * RECORD, retain_or_skip(db, older_than: cut)
      assert_raises(Roche::Dropped) { db.get(old.last, namespace: NS) }
      assert_equal VALUE, db.get(young, namespace: NS)
      # ns since the epoch work too; nothing more is old enough.
      assert_equal 0, db.retain(namespace: NS, older_than: (cut.to_r * 1_000_000_000).to_i)
      assert_equal 0, db.retain(namespace: NS) # no limits: nothing
    end
  end

  def test_retention_open_option
    open_store(buckets: 1, retention: { max_bytes: 3 * RECORD }) do |db|
      offsets = Array.new(10) { db.append(VALUE, namespace: NS) }
      skip "no hole punching here" if (db.retain(namespace: NS) rescue Roche::NotSupported) == Roche::NotSupported
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 10
      sleep 0.1 until db.stat(namespace: NS)[:dropped_records] == 7 || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      assert_equal 7, db.stat(namespace: NS)[:dropped_records], "the writer applied retention within 10 s"
      assert_equal offsets[7], db.bucket_range(0, namespace: NS).begin
    end
    open_store(retention: { max_age: 3600 }, &:close)
    open_store(retention: {}, &:close)
  end

  def test_bucket_range_of_an_empty_bucket
    open_store(buckets: 4) do |db|
      db.append("x", id: "a", namespace: NS)
      ranges = Array.new(4) { |bucket| db.bucket_range(bucket, namespace: NS) }
      assert_equal 1, ranges.count { |range| range.size.positive? }
      assert(ranges.all? { |range| range.begin == ((range.begin >> 50) << 50) })
      assert_raises(Roche::NotFound) { db.bucket_range(0, namespace: "nothing") }
    end
  end

  def test_read_only_store_cannot_retain
    open_store { |db| db.append("x", namespace: NS) }
    Roche.open(@root, read_only: true) do |reader|
      assert_raises(Roche::ReadOnly) { reader.retain(namespace: NS, max_bytes: 1) }
    end
  end

  def test_retention_bad_arguments
    open_store do |db|
      db.append("x", namespace: NS)
      assert_raises(TypeError) { db.retain(namespace: NS, older_than: "yesterday") }
      assert_raises(TypeError) { db.retain(namespace: NS, older_than: 1.5) }
      assert_raises(Roche::InvalidArgument) { db.retain(namespace: NS, older_than: -1) }
      assert_raises(Roche::InvalidArgument) { db.retain(namespace: NS, older_than: Time.at(-10)) }
      assert_raises(TypeError) { db.retain(namespace: NS, max_bytes: "1k") }
      assert_raises(Roche::InvalidArgument) { db.retain(namespace: NS, max_bytes: 2**64) }
      assert_raises(Roche::NotFound) { db.retain(namespace: "nothing", max_bytes: 1) }
      assert_raises(TypeError) { db.bucket_range(nil, namespace: NS) }
      assert_raises(Roche::InvalidArgument) { db.bucket_range(-1, namespace: NS) }
      assert_raises(Roche::InvalidArgument) { db.bucket_range(8191, namespace: NS) }
    end
    assert_raises(TypeError) { open_store(retention: 5) }
    assert_raises(Roche::InvalidArgument) { open_store(retention: { max_size: 5 }) }
    assert_raises(TypeError) { open_store(retention: { max_age: "1h" }) }
    assert_raises(Roche::InvalidArgument) { open_store(retention: { max_age: -1 }) }
    assert_raises(Roche::InvalidArgument) { open_store(retention: { max_bytes: -1 }) }
  end

  def test_not_supported_is_a_roche_error
    error = Roche.error_for(Roche::Native::ENOTSUP, "no holes here")
    assert_instance_of Roche::NotSupported, error
    assert_equal Roche::Native::ENOTSUP, error.code
    assert_match(/no holes here/, error.message)
    assert_instance_of Roche::TimedOut, Roche.error_for(Roche::Native::ETIMEDOUT)
  end

  private

  # roche_retain(), skipping the test where the file system cannot punch
  # holes (ENOTSUP; nothing was dropped).
  def retain_or_skip(db, **limits)
    db.retain(namespace: NS, **limits)
  rescue Roche::NotSupported => e
    skip "retention needs hole punching: #{e.message}"
  end
end
