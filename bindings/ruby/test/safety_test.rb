# frozen_string_literal: true

require "test_helper"

# Misuse from Ruby gets a Ruby exception, never a crash.
class SafetyTest < RocheTest
  CALLS_AFTER_CLOSE = {
    append: ->(db) { db.append("x") },
    append_many: ->(db) { db.append_many(%w[x y]) },
    append_many_empty: ->(db) { db.append_many([]) },
    get: ->(db) { db.get(0) },
    multi_get: ->(db) { db.multi_get([0]) },
    multi_get_empty: ->(db) { db.multi_get([]) },
    each: ->(db) { db.each { flunk "yielded after close" } },
    each_enumerator: ->(db) { db.each.to_a },
    sync: ->(db) { db.sync },
    sync_namespace: ->(db) { db.sync(namespace: "ns") },
    close_namespace: ->(db) { db.close_namespace(namespace: "ns") },
    delete_namespace: ->(db) { db.delete_namespace(namespace: "ns") },
    namespaces: ->(db) { db.namespaces },
    stat: ->(db) { db.stat(namespace: "ns") },
    follow: ->(db) { db.follow(namespace: "ns") },
    follow_cursor: ->(db) { db.follow(namespace: "ns", cursor: "c") },
    cursors: ->(db) { db.cursors(namespace: "ns") },
    commit_cursor: ->(db) { db.commit_cursor("c", [0], namespace: "ns") },
    cursor: ->(db) { db.cursor("c", namespace: "ns") },
    delete_cursor: ->(db) { db.delete_cursor("c", namespace: "ns") },
    retain: ->(db) { db.retain(namespace: "ns", max_bytes: 1) },
    bucket_range: ->(db) { db.bucket_range(0, namespace: "ns") }
  }.freeze

  def test_every_call_after_close_raises_closed
    db = open_store
    db.append("x", namespace: "ns")
    db.close
    CALLS_AFTER_CLOSE.each do |name, call|
      error = assert_raises(Roche::Closed, name.to_s) { call.call(db) }
      assert_kind_of Roche::Error, error
    end
  end

  def test_close_twice_is_harmless
    db = open_store
    assert_nil db.close
    assert_nil db.close
    assert_predicate db, :closed?
    open_store(&:close) # the lock was released
  end

  def test_close_inside_each_then_the_walk_stops_with_closed
    db = open_store
    db.append_many(%w[a b c])
    seen = []
    assert_raises(Roche::Closed) do
      db.each do |_offset, value, _time|
        seen << value
        db.close
      end
    end
    assert_equal ["a"], seen
  end

  def test_abandoned_external_enumerator_then_close
    db = open_store
    db.append_many(%w[a b])
    enum = db.each
    assert_equal "a", enum.next[1]
    db.close # frees the scan the suspended walk still holds
    assert_raises(Roche::Closed) { enum.next }
  end

  def test_forgotten_store_is_closed_by_the_garbage_collector
    forget_a_store
    reopened = nil
    50.times do
      GC.start(full_mark: true, immediate_sweep: true)
      reopened = try_open and break
    end
    refute_nil reopened, "the forgotten handle still holds the writer lock"
    assert_equal ["forgotten"], reopened.each.map { |_offset, value, _time| value }
    reopened.close
  end

  def test_store_left_open_at_exit_is_closed_by_its_finalizer
    output = ruby_child(<<~RUBY, @root)
      require "roche"
      db = Roche.open(ARGV[0], buckets: 1)
      db.append("x" * 10)
      db.each.next # a scan left open too
      puts "appended"
    RUBY
    assert_equal "appended\n", output
    # roche_close() trims the bucket file to its one record: 16 + 10 bytes.
    assert_equal 26, File.size(File.join(@root, "default", "append.0.raw"))
  end

  def test_forked_child_leaves_the_parents_store_alone
    db = open_store(buckets: 1)
    db.append("before fork")
    child = fork do
      db.append("from the child")
      exit!(2)
    rescue Roche::Closed
      db.close
      exit(0) # runs finalizers, as a child that forgets the store would
    end
    Process.wait(child)
    assert_equal 0, $?.exitstatus, "the child could use the parent's store"
    # Appending past the child's exit crashed with SIGBUS when the child's
    # finalizer trimmed the bucket file under this process's mapping.
    offsets = Array.new(2000) { |i| db.append("after fork #{i}" * 10) }
    assert_equal "after fork 1999" * 10, db.get(offsets.last)
    assert_equal 2001, db.each.count
    db.close
  end

  def test_compaction_moves_nothing_the_store_uses
    open_store do |db|
      offsets = db.append_many(Array.new(100) { |i| "value #{i}" })
      GC.compact
      assert_equal "value 99", db.get(offsets.last)
      assert_equal "value 0", db.each.first[1]
    end
  end

  def test_wrong_types_raise_type_errors
    open_store do |db|
      assert_raises(TypeError) { db.append(nil) }
      assert_raises(TypeError) { db.append(42) }
      assert_raises(TypeError) { db.append_many(["ok", nil]) }
      assert_raises(TypeError) { db.append_many("not a list") }
      assert_raises(TypeError) { db.multi_get(nil) }
      assert_raises(TypeError) { db.get(nil) }
      assert_raises(TypeError) { db.get("0") }
      assert_raises(TypeError) { db.multi_get([0, :one]) }
      assert_raises(TypeError) { db.append("x", namespace: 1) }
      assert_raises(TypeError) { db.append("x", id: 1.5) }
      assert_raises(TypeError) { db.each(from: "0").to_a }
    end
    assert_raises(TypeError) { Roche.open(nil) }
    assert_raises(TypeError) { open_store(buckets: "many") }
  end

  def test_bad_values_raise_argument_errors
    open_store do |db|
      assert_raises(Roche::InvalidArgument) { db.get(-1) }
      assert_raises(Roche::InvalidArgument) { db.get(2**64) }
      assert_raises(Roche::InvalidArgument) { db.multi_get([0, -5]) }
      assert_raises(Roche::InvalidArgument) { db.append("x", namespace: "nul\0name") }
      assert_raises(Roche::InvalidArgument) { db.append("x", id: "nul\0id") }
      assert_raises(Roche::InvalidArgument) { db.get(0, namespace: "a/b") }
    end
    assert_raises(Roche::InvalidArgument) { Roche.open("") }
    assert_raises(Roche::InvalidArgument) { Roche.open("nul\0path") }
    assert_raises(Roche::InvalidArgument) { open_store(buckets: -1) }
    assert_raises(Roche::InvalidArgument) { open_store(buckets: 100_000) }
  end

  def test_open_on_a_file_is_an_io_failure
    File.write(@root, "not a directory")
    error = assert_raises(Roche::IOFailure) { open_store }
    assert_equal Roche::Native::EIO, error.code
  end

  private

  # Opens a store and drops every reference to it. It runs on a thread of
  # its own whose stack is gone afterwards: Ruby's GC scans machine stacks
  # conservatively, and a stale slot on this thread's stack could keep the
  # handle alive.
  def forget_a_store
    Thread.new do
      open_store.append("forgotten")
      nil
    end.join
  end

  def try_open
    open_store
  rescue Roche::Locked
    nil
  end
end
