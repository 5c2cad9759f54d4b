# frozen_string_literal: true

require_relative "test_helper"

# Issue 17, "Bindings, round 2": what a new user writing against the
# README ran into.
class Round2Test < RocheTest
  EINVAL = -30_901

  # Namespaces come back as Dir.children gives the directories: in the
  # file system's encoding, valid or not.
  def test_namespaces_are_named_as_dir_names_them
    names = ["événements", "plain", "\xFF\xFEraw".b]
    open_store do |db|
      names.each { |name| db.append("x", namespace: name) }
      listed = db.namespaces
      from_dir = Dir.children(@root).reject { |name| name.start_with?(".") }.sort_by(&:b)
      assert_equal from_dir.map { |name| [name.b, name.encoding] }, listed.map { |name| [name.b, name.encoding] }
      if Encoding.find("filesystem") == Encoding::UTF_8
        assert_includes listed, "événements"
        raw = listed.find { |name| name.b == names[2] }
        assert_equal Encoding::UTF_8, raw.encoding
        refute_predicate raw, :valid_encoding?
      end
      # Each listed name reads its namespace back.
      listed.each { |name| assert_equal 1, db.stat(namespace: name)[:records] }
    end
  end

  def test_cursor_names_are_named_as_dir_names_them
    open_store do |db|
      db.append("x", namespace: "n")
      db.commit_cursor("lecteur-é", [0], namespace: "n")
      assert_equal ["lecteur-é".encode(Encoding.find("filesystem"), invalid: :replace, undef: :replace)].map(&:b),
                   db.cursors(namespace: "n").map(&:b)
      assert_includes db.cursors(namespace: "n"), "lecteur-é" if Encoding.find("filesystem") == Encoding::UTF_8
    end
  end

  def test_db_is_enumerable_over_the_default_namespace
    assert_includes Roche::DB.ancestors, Enumerable
    open_store do |db|
      offsets = %w[a b c].map { |value| db.append(value) }
      db.append("elsewhere", namespace: "other")
      assert_instance_of Enumerator, db.each
      assert_equal %w[a b c], db.map { |_offset, value, _time| value }
      assert_equal offsets.first(2), db.first(2).map(&:first)
      assert_equal 3, db.count
      assert_equal ["elsewhere"], db.each(namespace: "other").map { |record| record[1] }
      assert_equal %w[b c], db.each(from: offsets[1]).map { |record| record[1] }
    end
  end

  def test_every_namespace_call_takes_namespace_as_a_keyword
    open_store do |db|
      db.append("x", namespace: "k")
      assert_equal 1, db.stat(namespace: "k")[:records]
      db.close_namespace(namespace: "k")
      db.delete_namespace(namespace: "k")
      refute_includes db.namespaces, "k"
      db.append("d")
      assert_equal 1, db.stat[:records] # the default namespace
      assert_silent { db.stat(namespace: nil) }
    end
  end

  def test_the_positional_namespace_still_works_with_a_deprecation_warning
    open_store do |db|
      db.append("x", namespace: "p")
      calls = { stat: -> { db.stat("p") },
                close_namespace: -> { db.close_namespace("p") },
                delete_namespace: -> { db.delete_namespace("p") } }
      calls.each do |name, call|
        _out, err = capture_io { call.call }
        assert_match(/round2_test\.rb:\d+: warning: roche: #{name}\(namespace\) is #{name}\(namespace: namespace\) now \(deprecated/,
                     err)
      end
      refute_includes db.namespaces, "p"
      db.append("y", namespace: "q")
      # Once per call site, not once per call.
      _out, err = capture_io { 3.times { db.stat("q") } }
      assert_equal 1, err.scan("deprecated").size
      error = assert_raises(Roche::InvalidArgument) { db.stat("q", namespace: "q") }
      assert_equal EINVAL, error.code
    end
  end

  def test_every_bad_argument_value_is_invalid_argument
    [0, -1, 8192, 2**32, 2**64].each do |buckets|
      error = assert_raises(Roche::InvalidArgument, "buckets: #{buckets}") { open_store(buckets: buckets) }
      assert_equal EINVAL, error.code
      assert_match(/buckets must be between 1 and 8191/, error.message)
    end
    [{ sync: :sometimes }, { sync: :never, sync_period: 1 }, { sync: :periodic, sync_period: 0 },
     { sync: :periodic, sync_period: 3601 }, { max_open_files: 3 }, { max_open_files: -1 },
     { retention: { max_age: -1 } }, { retention: { max_bytes: -1 } }, { retention: { max_size: 1 } }].each do |options|
      error = assert_raises(Roche::InvalidArgument, options.inspect) { open_store(**options) }
      assert_equal EINVAL, error.code
    end
    refute File.exist?(@root), "a bad option reached roche_open()"
    assert_raises(Roche::InvalidArgument) { Roche.open("nul\0path") }
    open_store do |db|
      offset = db.append("x")
      bad = [-> { db.get(-1) }, -> { db.get(2**64) }, -> { db.multi_get([offset, -5]) },
             -> { db.each(from: -1).to_a }, -> { db.get(offset, namespace: "nul\0") },
             -> { db.append("x", namespace: "nul\0") }, -> { db.append("x", id: "nul\0") },
             -> { db.stat(namespace: "a/b") }, -> { db.bucket_range(-1) }, -> { db.retain(max_bytes: -1) },
             -> { db.commit_cursor("c", [-1]) }, -> { db.follow(from: [0], cursor: "c") },
             -> { db.follow { |follower| follower.next(timeout: -1) } }]
      bad.each_with_index do |call, i|
        error = assert_raises(Roche::InvalidArgument, "bad call #{i}") { call.call }
        assert_equal EINVAL, error.code
      end
      assert_equal "x", db.get(offset)
    end
  end

  # Group commit (sync: :periodic): libroche's thread syncs every period;
  # an append returns before the disk has it, and the option reaches
  # libroche (a period it refuses is its EINVAL, with its detail).
  def test_group_commit_is_an_open_option
    error = assert_raises(Roche::InvalidArgument) { open_store(sync: :periodic, sync_period: 4000) }
    assert_match(/sync period must be 1\.\.3600000 ms/, error.message)
    offsets = open_store(sync: :periodic, sync_period: 0.01) do |db|
      offsets = Array.new(100) { |i| db.append("v#{i}", namespace: "g") }
      sleep 0.05 # a few periods: the sync thread runs beside the appends
      offsets
    end
    open_store(read_only: true) do |db|
      assert_equal Array.new(100) { |i| "v#{i}" }, db.multi_get(offsets, namespace: "g")
    end
  end

  # format: :rochefort writes and checks rochefort v0.5's header check; a
  # namespace in the other format is refused (Corrupt), nothing changed.
  def test_format_is_an_open_option
    [:crc, "rochefort", nil, 1, :ROCHEFORT].each do |format|
      error = assert_raises(Roche::InvalidArgument, format.inspect) { open_store(format: format) }
      assert_equal EINVAL, error.code
      assert_match(/format must be one of \[:roche, :rochefort\]/, error.message)
    end
    refute File.exist?(@root), "a bad format reached roche_open()"

    values = ["bytes\0ok".b, "".b, ("x" * 5000).b]
    offsets = open_store(format: :rochefort, buckets: 4) do |db|
      values.each_with_index.map { |value, i| db.append(value, namespace: "old", id: i.odd? ? "user-#{i}" : nil) }
    end
    [false, true].each do |read_only|
      open_store(format: :rochefort, read_only: read_only) do |db|
        assert_equal values, offsets.map { |offset| db.get(offset, namespace: "old") }
        assert_equal values, db.multi_get(offsets, namespace: "old")
        assert_equal offsets.zip(values).sort, db.each(namespace: "old").map { |offset, value, _time| [offset, value] }.sort
      end
      open_store(read_only: read_only) do |db|
        error = assert_raises(Roche::Corrupt, "get, read_only: #{read_only}") { db.get(offsets[0], namespace: "old") }
        assert_match(/nothing was changed/, error.message)
        assert_raises(Roche::Corrupt) { db.append("y", namespace: "old") } unless read_only
        assert_raises(Roche::Corrupt) { db.each(namespace: "old").to_a }
      end
    end

    # And the other way round: a default-format namespace refused in rochefort's.
    fresh = open_store(format: :roche) { |db| db.append("new", namespace: "new") }
    open_store(format: :rochefort) do |db|
      error = assert_raises(Roche::Corrupt) { db.get(fresh, namespace: "new") }
      assert_match(/nothing was changed/, error.message)
      assert_equal values[0], db.get(offsets[0], namespace: "old")
    end
    open_store { |db| assert_equal "new", db.get(fresh, namespace: "new") }
  end

  # A libroche without roche_options_set_format opens the default format
  # and refuses format: :rochefort (NotSupported), creating nothing.
  def test_format_without_roche_options_set_format_in_the_library
    output = ruby_child(<<~RUBY, @dir)
      require "ffi"
      module HideSetFormat
        def attach_function(name, *args, **options)
          raise FFI::NotFoundError.new("roche_options_set_format", "libroche") if name == :roche_options_set_format

          super
        end
      end
      FFI::Library.prepend(HideSetFormat)
      require "roche"
      root = File.join(ARGV[0], "old")
      begin
        Roche.open(root, format: :rochefort)
      rescue Roche::NotSupported => e
        puts e.code, File.exist?(root)
      end
      puts Roche.open(root, format: :roche) { |db| db.get(db.append("value")) }
    RUBY
    assert_equal "-30913\nfalse\nvalue\n", output
  end

  # Many namespaces under a small bound on open files: every one stays
  # readable, and the descriptors held stay bounded.
  def test_many_namespaces_under_max_open_files
    skip "no /proc/self/fd" unless File.directory?("/proc/self/fd")
    open_store(max_open_files: 8, buckets: 1) do |db|
      before = Dir.children("/proc/self/fd").size
      offsets = Array.new(300) { |i| db.append("value #{i}", namespace: "ns#{i}") }
      assert_operator Dir.children("/proc/self/fd").size - before, :<=, 12
      offsets.each_with_index { |offset, i| assert_equal "value #{i}", db.get(offset, namespace: "ns#{i}") }
      assert_equal 300, db.namespaces.size
    end
  end

  # Reads check each value against its checksum: a byte changed on disk is
  # Roche::Corrupt from get, multi_get and each (which goes on past it).
  def test_a_damaged_value_is_corrupt_from_every_read
    offsets = open_store(buckets: 1) { |db| %w[first second third].map { |value| db.append(value, namespace: "d") } }
    file = File.join(@root, "d", "append.0.raw")
    File.open(file, "r+b") do |io|
      io.seek(offsets[1] + 16) # the second record's value
      io.write("X")
    end
    open_store(buckets: 1) do |db|
      assert_raises(Roche::Corrupt) { db.get(offsets[1], namespace: "d") }
      assert_equal "first", db.get(offsets[0], namespace: "d")
      result = db.multi_get(offsets, namespace: "d")
      assert_instance_of Roche::Corrupt, result[1]
      assert_equal offsets[1], result[1].offset
      seen = []
      error = assert_raises(Roche::Corrupt) { db.each(namespace: "d") { |record| seen << record[1] } }
      assert_equal ["first"], seen
      assert_equal offsets[1], error.offset if error.offset
      assert_equal ["third"], db.each(namespace: "d", from: offsets[1] + 1).map { |record| record[1] }
    end
  end

  # The hot path holds the store's lock for the call only: a close on
  # another thread waits for it, and every get after it raises Closed.
  def test_close_during_a_stream_of_gets_is_safe
    open_store do |db|
      offset = db.append("v" * 100)
      reader = Thread.new do
        loop { db.get(offset) }
      rescue Roche::Closed
        :closed
      end
      sleep 0.05
      db.close
      assert_equal :closed, reader.value
    end
  end

  def test_a_forked_child_gets_closed_from_the_hot_path
    skip "no fork" unless Process.respond_to?(:fork)
    open_store do |db|
      offset = db.append("x")
      reader, writer = IO.pipe
      pid = fork do
        reader.close
        results = [-> { db.get(offset) }, -> { db.append("y") }].map do |call|
          call.call
          "no error"
        rescue Roche::Closed
          "closed"
        rescue StandardError => e
          e.class.name
        end
        writer.write(results.join(","))
        writer.close
        exit!(0)
      end
      writer.close
      assert_equal "closed,closed", reader.read
      Process.wait(pid)
      assert_equal "x", db.get(offset)
    end
  end
end
