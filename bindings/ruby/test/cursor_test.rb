# frozen_string_literal: true

require "test_helper"

# Cursors: named positions of consumers, committed, read, listed, deleted,
# and followed from.
class CursorTest < RocheTest
  NS = "log"

  def test_commit_get_list_delete
    open_store(buckets: 2) do |db|
      db.append("x", namespace: NS)
      assert_equal [], db.cursors(namespace: NS)
      assert_nil db.commit_cursor("b", [17, 2**50 + 5], namespace: NS)
      db.commit_cursor(:a, [], namespace: NS) # a Symbol; no offsets at all
      assert_equal %w[a b], db.cursors(namespace: NS)
      assert_equal [17, 2**50 + 5], db.cursor("b", namespace: NS)
      assert_equal [], db.cursor("a", namespace: NS)
      db.commit_cursor("b", [33], namespace: NS) # overwritten
      assert_equal [33], db.cursor("b", namespace: NS)
      assert_nil db.delete_cursor("b", namespace: NS)
      assert_equal ["a"], db.cursors(namespace: NS)
      error = assert_raises(Roche::NotFound) { db.cursor("b", namespace: NS) }
      assert_equal Roche::Native::ENOTFOUND, error.code
      assert_raises(Roche::NotFound) { db.delete_cursor("b", namespace: NS) }
      assert_raises(Roche::NotFound) { db.cursors(namespace: "nothing") }
      assert_raises(Roche::NotFound) { db.commit_cursor("c", [0], namespace: "nothing") }
    end
  end

  def test_default_namespace_and_reopen
    open_store do |db|
      db.append("x")
      db.commit_cursor("kept", [1, 2, 3])
    end
    Roche.open(@root, read_only: true) do |reader|
      assert_equal [1, 2, 3], reader.cursor("kept")
      reader.commit_cursor("from a reader", [4]) # consumer state: allowed read-only
      assert_equal ["from a reader", "kept"], reader.cursors
    end
  end

  def test_follower_commits_and_a_new_one_goes_on_from_the_cursor
    values = Array.new(300) { |i| "v#{i}" }
    open_store(buckets: 4) do |db|
      values.each_with_index { |value, i| db.append(value, id: "id#{i % 5}", namespace: NS) }
      first = db.follow(namespace: NS, cursor: "consumer") do |follower| # no such cursor yet: from the start
        part = Array.new(120) { follower.next(timeout: 0)[1] }
        follower.commit("consumer")
        assert_equal follower.position, db.cursor("consumer", namespace: NS)
        part
      end
      db.append_many(%w[late1 late2], namespace: NS)
      rest = db.follow(namespace: NS, cursor: "consumer") { |follower| follower.each(timeout: 0).map { |r| r[1] } }
      assert_equal (values + %w[late1 late2]).sort, (first + rest).sort
      # A follower whose buffer is empty commits through libroche directly.
      db.follow(namespace: NS, cursor: "consumer") do |follower|
        follower.each(timeout: 0) { nil }
        follower.commit("consumer")
        assert_nil db.follow(namespace: NS, cursor: "consumer") { |again| again.next(timeout: 0) }
      end
    end
  end

  def test_delete_namespace_removes_its_cursors
    open_store do |db|
      db.append("x", namespace: NS)
      db.commit_cursor("c", [0], namespace: NS)
      db.delete_namespace(namespace: NS)
      db.append("y", namespace: NS)
      assert_equal [], db.cursors(namespace: NS)
    end
  end

  def test_cursor_bad_arguments
    open_store do |db|
      db.append("x", namespace: NS)
      assert_raises(TypeError) { db.cursor(nil, namespace: NS) }
      assert_raises(TypeError) { db.commit_cursor(nil, [0], namespace: NS) }
      assert_raises(TypeError) { db.delete_cursor(7, namespace: NS) }
      assert_raises(TypeError) { db.commit_cursor("c", nil, namespace: NS) }
      assert_raises(TypeError) { db.commit_cursor("c", [0, "1"], namespace: NS) }
      assert_raises(Roche::InvalidArgument) { db.commit_cursor("c", [2**64], namespace: NS) }
      assert_raises(TypeError) { db.cursors(namespace: 1) }
      assert_raises(Roche::InvalidArgument) { db.cursor("nul\0", namespace: NS) }
      assert_raises(Roche::InvalidArgument) { db.cursor("a/b", namespace: NS) }
      assert_raises(Roche::InvalidArgument) { db.commit_cursor("", [0], namespace: NS) }
      assert_raises(Roche::InvalidArgument) { db.commit_cursor("c", Array.new(8192, 0), namespace: NS) }
    end
  end
end
