# frozen_string_literal: true

require "test_helper"
require "minitest/mock"

class ApiTest < RocheTest
  def test_values_round_trip_as_their_bytes
    values = ["plain", "nul\0inside\0", "\xff\xfe\x00".b, "é".encode("UTF-16LE"), "x" * 100_000]
    open_store do |db|
      offsets = values.map { |value| db.append(value) }
      values.zip(offsets).each do |value, offset|
        read = db.get(offset)
        assert_equal value.b, read
        assert_equal Encoding::BINARY, read.encoding
      end
    end
  end

  def test_append_many_mixes_encodings
    values = ["é", "\xff".b, "ü".encode("UTF-16LE"), "plain"]
    open_store do |db|
      offsets = db.append_many(values)
      assert_equal values.map(&:b), db.multi_get(offsets)
    end
  end

  def test_empty_value
    open_store do |db|
      offset = db.append("")
      assert_equal "".b, db.get(offset)
      assert_equal ["".b], db.multi_get([offset])
      assert_equal ["".b], db.each.map { |_offset, value, _time| value }
    end
  end

  # get copies the value out of the store (roche_get_into, into the
  # store's buffer, then into a String): what it returned is the caller's own String, intact
  # after the namespace is closed or deleted and after the store is closed.
  def test_get_returns_a_copy_that_outlives_its_namespace
    value = ("\0kept\xff".b * 20_000) # over one page, NULs included
    db = open_store
    closed = db.get(db.append(value, namespace: "c"), namespace: "c")
    deleted = db.get(db.append(value, namespace: "d"), namespace: "d")
    empty = db.get(db.append("", namespace: "d"), namespace: "d")
    db.close_namespace(namespace: "c")
    db.delete_namespace(namespace: "d")
    db.append("x" * 70_000, namespace: "c") # new mappings where the old ones were
    db.close
    GC.start
    assert_equal value, closed
    assert_equal value, deleted
    assert_equal "".b, empty
    [closed, deleted, empty].each do |read|
      assert_equal Encoding::BINARY, read.encoding
      refute read.frozen?
    end
    closed << "mine" # the caller's to change
    assert_equal "#{value}mine", closed
  end

  def test_get_of_an_empty_value_in_a_read_only_store
    offset = open_store { |db| db.append("", namespace: "e") }
    open_store(read_only: true) do |db|
      read = db.get(offset, namespace: "e")
      assert_equal "".b, read
      assert_equal Encoding::BINARY, read.encoding
    end
  end

  # The handle's guard is left even when the copy out of the buffer
  # raises: a later get reads on, and close does not wait for the failed one.
  def test_get_leaves_its_guard_when_the_copy_raises
    get_into = Roche::Native.method(:roche_get_into)
    broken_get_into = lambda do |*args, length_at|
      code = get_into.call(*args, length_at)
      FFI::Pointer.new(length_at).write_uint64(2**62) # past the buffer: get_bytes raises
      code
    end
    db = open_store
    offset = db.append("value")
    Roche::Native.stub(:roche_get_into, broken_get_into) do
      assert_raises(IndexError) { db.get(offset) }
    end
    assert_equal "value", db.get(offset)
    closer = Thread.new { db.close }
    assert closer.join(10), "close waited for the failed get"
  end

  # get reads through one buffer per store, grown for larger values (and
  # values past what it keeps, through a buffer of their own): each String
  # returned is the caller's own, whatever is read next.
  def test_get_of_values_of_every_size_through_one_buffer
    sizes = [0, 1, 100, 4095, 4096, 4097, 70_000, 262_144, 262_145, 1_000_000, 5, 0]
    [false, true].each do |read_only|
      values = sizes.each_with_index.map { |size, i| Random.new(i).bytes(size) }
      offsets = open_store { |db| values.map { |value| db.append(value, namespace: "sizes") } }
      open_store(read_only: read_only) do |db|
        reads = offsets.map { |offset| db.get(offset, namespace: "sizes") }
        assert_equal values, reads
        reads.each { |read| assert_equal Encoding::BINARY, read.encoding }
        assert_equal values.reverse, offsets.reverse.map { |offset| db.get(offset, namespace: "sizes") }
        assert_raises(Roche::Corrupt) { db.get(offsets[6] + 1, namespace: "sizes") }
        assert_equal values[7], db.get(offsets[7], namespace: "sizes")
      end
    end
  end

  # Threads share the store's buffer one get at a time (the handle's lock):
  # each reads its own values, while others make the buffer grow.
  def test_get_from_threads_while_the_buffer_grows
    sizes = [3, 5000, 100, 300_000, 70_000, 0, 9000]
    open_store do |db|
      values = sizes.map { |size| Random.new(size).bytes(size) }
      offsets = values.map { |value| db.append(value) }
      threads = Array.new(4) do |t|
        Thread.new do
          200.times.all? do |i|
            k = (i + t) % sizes.size
            db.get(offsets[k]) == values[k]
          end
        end
      end
      assert threads.map(&:value).all?
    end
  end

  # Without roche_get_into (an older libroche), get reads through a view:
  # the view is released even when the copy out of it raises, and the
  # handle's guard is left: close does not wait for the failed get.
  def test_get_releases_its_view_when_the_copy_raises
    get_view = Roche::Native.method(:roche_get_view)
    release = Roche::Native.method(:roche_view_release)
    released = []
    broken_get_view = lambda do |*args, data_at, length_at|
      code = get_view.call(*args, data_at, length_at)
      FFI::Pointer.new(data_at).write_pointer(FFI::Pointer::NULL) # read_bytes of NULL raises
      code
    end
    counting_release = lambda do |view|
      released << view
      release.call(view)
    end
    open_store do |db|
      offset = db.append("value")
      Roche::Native.stub(:roche_get_view, broken_get_view) do
        Roche::Native.stub(:roche_view_release, counting_release) do
          assert_raises(FFI::NullPointerError) { db.send(:get_through_view, offset) }
        end
      end
      assert_equal 1, released.size
      refute_equal 0, released.first
      assert_equal "value", db.send(:get_through_view, offset)
      assert_equal "value", db.get(offset)
      assert_equal "".b, db.send(:get_through_view, db.append(""))
      assert_raises(Roche::Corrupt) { db.send(:get_through_view, offset + 1) }
    end
  end

  # A libroche without roche_get_into loads, and get reads through views.
  def test_get_without_roche_get_into_in_the_library
    output = ruby_child(<<~RUBY, @dir)
      require "ffi"
      module HideGetInto
        def attach_function(name, *args, **options)
          raise FFI::NotFoundError.new("roche_get_into", "libroche") if name == :roche_get_into

          super
        end
      end
      FFI::Library.prepend(HideGetInto)
      require "roche"
      Roche.open(File.join(ARGV[0], "old")) do |db|
        offset = db.append("value" * 1000)
        puts Roche::Native.respond_to?(:roche_get_into), db.get(offset) == "value" * 1000,
             db.get(db.append("")).inspect
      end
    RUBY
    assert_equal "false\ntrue\n\"\"\n", output
  end

  def test_values_survive_close_and_reopen
    offset = open_store { |db| db.append("kept", namespace: "ns") }
    open_store(read_only: true) { |db| assert_equal "kept", db.get(offset, namespace: "ns") }
  end

  def test_block_form_returns_block_value_and_closes
    kept = nil
    assert_equal :done, open_store { |db| kept = db; :done }
    assert_predicate kept, :closed?
  end

  def test_append_many_returns_offsets_in_order
    values = ["a", "", "b\0c", "d" * 1000]
    open_store(buckets: 4) do |db|
      offsets = db.append_many(values, id: "user-1", namespace: "batch")
      assert_equal values.size, offsets.size
      assert_equal offsets.sort, offsets
      assert_equal values, db.multi_get(offsets, namespace: "batch")
      assert_equal [], db.append_many([])
    end
  end

  def test_same_id_goes_to_one_bucket
    open_store(buckets: 8) do |db|
      offsets = Array.new(5) { |i| db.append("v#{i}", id: "same") }
      assert_equal 1, offsets.map { |offset| offset >> 50 }.uniq.size
    end
  end

  def test_namespaces_are_separate
    open_store do |db|
      offset = db.append("in a", namespace: "a")
      assert_equal "in a", db.get(offset, namespace: :a)
      assert_raises(Roche::NotFound) { db.get(offset, namespace: "b") }
      assert_equal ["a"], db.namespaces
    end
  end

  def test_multi_get_keeps_request_order_and_reports_bad_offsets_per_item
    open_store(buckets: 2) do |db|
      first, second = db.append_many(%w[first second], id: "k")
      past_end = second + 1_000_000
      inside_record = first + 1
      missing_bucket = 100 << 50
      result = db.multi_get([second, past_end, first, inside_record, second, missing_bucket])
      assert_equal "second", result[0]
      assert_instance_of Roche::NotFound, result[1]
      assert_equal Roche::Native::ENOTFOUND, result[1].code
      assert_equal "first", result[2]
      assert_instance_of Roche::Corrupt, result[3]
      assert_equal "second", result[4]
      assert_instance_of Roche::NotFound, result[5]
      assert_equal 3, result.grep(Roche::Error).size
    end
  end

  def test_multi_get_in_a_missing_namespace
    open_store do |db|
      result = db.multi_get([0, 0], namespace: "nothing-here")
      assert(result.all? { |item| item.is_a?(Roche::NotFound) })
      assert_equal [], db.multi_get([])
      assert_equal 3, db.multi_get(0..2).size
    end
  end

  def test_get_errors_carry_code_and_detail
    open_store do |db|
      offset = db.append("x")
      error = assert_raises(Roche::NotFound) { db.get(offset + 1_000_000) }
      assert_equal Roche::Native::ENOTFOUND, error.code
      assert_match(/not found.*#{offset + 1_000_000}/, error.message)
      error = assert_raises(Roche::Corrupt) { db.get(offset + 1) }
      assert_equal Roche::Native::ECORRUPT, error.code
      assert_kind_of Roche::Error, error
    end
  end

  def test_each_walks_in_offset_order_with_times
    before = Time.now
    open_store(buckets: 3) do |db|
      offsets = %w[a b c d e f].map.with_index { |value, i| db.append(value, id: "id#{i}", namespace: "walk") }
      seen = []
      returned = db.each(namespace: "walk") { |offset, value, time| seen << [offset, value, time] }
      assert_same db, returned
      assert_equal offsets.sort, seen.map(&:first)
      assert_equal offsets.zip(%w[a b c d e f]).sort.map(&:last), seen.map { |record| record[1] }
      seen.each { |_offset, _value, time| assert_operator time, :>=, before - 1 }
    end
  end

  def test_each_without_block_is_an_enumerator_that_resumes_from
    open_store(buckets: 1) do |db|
      offsets = db.append_many(%w[one two three])
      enum = db.each
      assert_kind_of Enumerator, enum
      assert_equal %w[one two three], enum.map { |_offset, value, _time| value }
      assert_equal %w[two three], db.each(from: offsets[0] + 1).map { |record| record[1] }
      first = enum.next
      assert_equal [offsets[0], "one"], first.first(2)
      assert_equal "two", enum.next[1]
      assert_equal [], db.each(namespace: "empty").to_a
    end
  end

  def test_break_out_of_each_frees_the_scan_so_close_works
    open_store do |db|
      db.append_many(%w[a b c])
      value = db.each { |_offset, v, _time| break v }
      assert_equal "a", value
    end
  end

  def test_close_and_delete_namespace
    open_store do |db|
      offset = db.append("gone soon", namespace: "tmp")
      db.close_namespace(namespace: "tmp")
      assert_equal "gone soon", db.get(offset, namespace: "tmp")
      db.delete_namespace(namespace: "tmp")
      assert_raises(Roche::NotFound) { db.get(offset, namespace: "tmp") }
      refute File.exist?(File.join(@root, "tmp"))
      assert_raises(Roche::NotFound) { db.delete_namespace(namespace: "tmp") }
    end
  end

  def test_sync_and_stat
    open_store(sync: :always) do |db|
      db.append_many(%w[ab cd], namespace: "s")
      offset = db.append("ef\0", namespace: "s")
      assert_equal "ef\0", db.get(offset, namespace: "s")
      assert_nil db.sync
      assert_nil db.sync(namespace: "s")
      stat = db.stat(namespace: "s")
      assert_equal 3, stat[:records]
      assert_equal 3 * 16 + 2 + 2 + 3, stat[:bytes]
    end
  end

  def test_locked_read_only_and_missing_root
    open_store do |db|
      offset = db.append("x")
      assert_raises(Roche::Locked) { open_store }
      open_store(read_only: true) do |reader|
        assert_equal "x", reader.get(offset)
        error = assert_raises(Roche::ReadOnly) { reader.append("y") }
        assert_equal Roche::Native::EREADONLY, error.code
      end
    end
    assert_raises(Roche::NotFound) { Roche.open(File.join(@dir, "absent"), read_only: true) }
  end

  def test_invalid_names_and_options
    open_store do |db|
      assert_raises(Roche::InvalidArgument) { db.append("x", namespace: "../escape") }
      assert_raises(Roche::InvalidArgument) { db.append("x", namespace: ".hidden") }
      refute File.exist?(File.join(@dir, "escape"))
    end
    assert_raises(Roche::InvalidArgument) { open_store(buckets: 0) }
    assert_raises(Roche::InvalidArgument) { open_store(sync: :sometimes) }
  end
end
