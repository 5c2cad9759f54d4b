# frozen_string_literal: true

require "test_helper"

# The bad-input matrix of tests/reliability/BINDINGS.md: the rows, or the
# parts of rows, that api_test.rb, safety_test.rb and threads_test.rb do not
# cover already. Each test is named after its section of the matrix. After
# every bad call a test proves the store still works: one append, one get.
class MatrixTest < RocheTest
  ENOTFOUND = Roche::Native::ENOTFOUND
  EINVAL = Roche::Native::EINVAL
  ETOOBIG = Roche::Native::ETOOBIG

  # --- 1. Missing values ---------------------------------------------------

  def test_1_nil_root_creates_no_store
    assert_raises(TypeError) { Roche.open(nil, buckets: 1) }
    assert_empty Dir.children(@dir)
    open_store { |db| assert_usable(db) }
  end

  def test_1_nil_options_use_the_defaults_or_fail_before_open
    assert_raises(ArgumentError) { Roche.open(@root, nil) }
    assert_raises(Roche::InvalidArgument) { open_store(sync: nil) }
    refute File.exist?(@root), "a bad option must fail before roche_open() creates the root"
    open_store(buckets: nil, read_only: nil) do |db|
      assert_usable(db) # read_only: nil is read-write
      assert_equal 8, db.stat[:buckets] # ROCHE_DEFAULT_BUCKETS
    end
  end

  def test_1_nil_values_write_nothing
    open_store do |db|
      db.append("before")
      bad = { append: -> { db.append(nil) },
              append_many_nil: -> { db.append_many(nil) },
              append_many_only_nil: -> { db.append_many([nil]) },
              append_many_last_nil: -> { db.append_many(["first", nil]) },
              append_many_first_nil: -> { db.append_many([nil, "last"]) } }
      bad.each { |name, call| assert_raises(TypeError, name.to_s) { call.call } }
      assert_equal ["before"], values_in(db)
      assert_usable(db)
    end
  end

  def test_1_nil_namespace_is_default_for_append_get_and_scan
    open_store do |db|
      offset = db.append("one", namespace: nil)
      offsets = db.append_many(%w[two three], namespace: nil)
      assert_equal ["default"], db.namespaces
      assert_equal "one", db.get(offset, namespace: "default")
      assert_equal %w[two three], db.multi_get(offsets, namespace: "default")
      assert_equal %w[one two three], values_in(db, namespace: nil)
      assert_equal %w[one two three], values_in(db, namespace: "default")
    end
  end

  # Slots are handed out per process in order of first use, so this runs in
  # a fresh Ruby: its main thread takes the first slot, the new thread the
  # second, and with 4 buckets they get buckets 0 and 1.
  def test_1_nil_id_gives_each_thread_its_own_bucket
    output = ruby_child(<<~RUBY, @root)
      require "roche"
      Roche.open(ARGV[0], buckets: 4) do |db|
        main = Array.new(3) { |i| db.append("main \#{i}", id: nil) }
        other = Thread.new { Array.new(3) { |i| db.append("thread \#{i}") } + db.append_many(%w[x y]) }.value
        main << db.append("main 3")
        raise "read back differs" unless db.multi_get(main) == Array.new(4) { |i| "main \#{i}" }
        p main.map { |offset| offset >> 50 }.uniq, other.map { |offset| offset >> 50 }.uniq
      end
    RUBY
    assert_equal "[0]\n[1]\n", output
  end

  def test_1_nil_in_an_offset_list_is_a_type_error_not_a_partial_result
    open_store do |db|
      offset = db.append("x")
      assert_raises(TypeError) { db.multi_get([offset, nil]) }
      assert_raises(TypeError) { db.multi_get([nil]) }
      assert_raises(TypeError) { db.get(nil) }
      assert_usable(db)
    end
  end

  # --- 2. A closed store ---------------------------------------------------

  def test_2_closed_store_says_so_and_reopens_usable
    db = open_store
    offset = db.append("kept")
    assert_nil db.close
    error = assert_raises(Roche::Closed) { db.get(offset) }
    assert_nil error.code # refused by the gem: libroche never sees a freed handle
    assert_match(/closed/, error.message)
    assert_nil db.close
    open_store do |again|
      assert_equal "kept", again.get(offset)
      assert_usable(again)
      assert_raises(Roche::Closed) { db.append("x") } # the old handle stays closed
    end
  end

  # A close on another thread right after a scan step has left the handle's
  # guard, and before the step's record is read, used to unmap the bucket
  # file under that read (SIGSEGV). A thread switch at that exact point is
  # forced with a TracePoint on the return of DB#use, the guard's exit. It
  # runs in a child so that a regression fails this test, not the suite.
  # A step is a batch (all three records here): the switch comes after the
  # batch's guard, whose values are read by then, and the walk stops with
  # Closed at the next record, as a close inside the block makes it.
  def test_2_close_between_a_scan_step_and_its_record_never_reads_freed_memory
    output = ruby_child(<<~RUBY, @root)
      require "roche"
      db = Roche.open(ARGV[0], buckets: 1)
      db.append_many(%w[first second third].map { |word| "\#{word} " * 1000 })
      walker = Thread.current
      fired = false
      guards = 0
      hook = TracePoint.new(:return) do |tp|
        next if fired || Thread.current != walker || tp.method_id != :use || !tp.self.is_a?(Roche::DB)
        next if (guards += 1) == 1 # the scan's open

        fired = true
        Thread.new { db.close }.join
      end
      seen = []
      begin
        hook.enable
        db.each do |_offset, value, _time|
          seen << value.split.first
        end
      rescue Roche::Closed
        puts "closed after \#{seen.join(",")}"
      end
      hook.disable
    RUBY
    assert_equal "closed after first\n", output
    open_store do |db|
      assert_equal(%w[first second third].map { |word| "#{word} " * 1000 }, values_in(db))
      assert_usable(db)
    end
  end

  def test_2_store_collected_without_close_has_its_files_trimmed
    Thread.new { Roche.open(@root, buckets: 1).append("x" * 10) && nil }.join
    bucket = File.join(@root, "default", "append.0.raw")
    trimmed = Array.new(50).any? do
      GC.start(full_mark: true, immediate_sweep: true)
      File.size(bucket) == 16 + 10
    end
    assert trimmed, "the collector never closed the store (bucket file is #{File.size(bucket)} bytes)"
    open_store do |db|
      assert_equal ["x" * 10], values_in(db)
      assert_usable(db)
    end
  end

  def test_2_forked_child_is_refused_every_call
    skip "Process.fork is not available here" unless Process.respond_to?(:fork)

    db = open_store(buckets: 1)
    offsets = db.append_many(%w[one two])
    walk = db.each
    assert_equal "one", walk.next[1] # a scan open across the fork
    bucket = File.join(@root, "default", "append.0.raw")
    size = File.size(bucket)
    child = Process.fork do
      calls = [-> { db.get(offsets[0]) }, -> { db.multi_get(offsets) }, -> { db.each.to_a }, -> { walk.next },
               -> { db.append_many(%w[a]) }, -> { db.sync }, -> { db.namespaces }, -> { db.stat },
               -> { db.close_namespace(namespace: nil) }, -> { db.delete_namespace(namespace: nil) }]
      refused = calls.count do |call|
        call.call
        false
      rescue Roche::Closed
        true
      end
      db.close # a no-op in the child
      exit(calls.size - refused) # exit runs finalizers, which must leave the store alone too
    end
    Process.wait(child)
    assert_equal 0, $?.exitstatus, "calls the child could make on the parent's store"
    assert_equal size, File.size(bucket), "the child changed the parent's bucket file"
    assert_equal "two", walk.next[1]
    assert_usable(db)
    db.close
  end

  # --- 3. Bad offsets ------------------------------------------------------

  def test_3_offsets_of_buckets_above_8191_are_not_found
    open_store do |db|
      good = db.append("good")
      [8192 << 50, 2**63, 2**64 - 1].each do |offset|
        assert_roche_error(Roche::NotFound, ENOTFOUND) { db.get(offset) }
        result = db.multi_get([good, offset, good])
        assert_equal ["good", "good"], result.values_at(0, 2)
        assert_instance_of Roche::NotFound, result[1]
        assert_equal ENOTFOUND, result[1].code
      end
      assert_usable(db)
    end
  end

  def test_3_scan_from_a_bad_offset_starts_at_the_next_record
    open_store(buckets: 2) do |db|
      zero = db.append_many(%w[b0-first b0-second], id: "left", namespace: "o")
      one = db.append_many(%w[b1-first b1-second], id: "a", namespace: "o")
      assert_equal [[0], [1]], [zero, one].map { |offsets| offsets.map { |offset| offset >> 50 }.uniq }
      starts = {
        "inside a record" => [zero[0] + 1, %w[b0-second b1-first b1-second]],
        "inside the last record of bucket 1" => [one[1] + 1, []],
        "past the end of bucket 0" => [zero[1] + 1_000_000, %w[b1-first b1-second]],
        "past the end of the last bucket" => [one[1] + 1_000_000, []],
        "a bucket with no file" => [100 << 50, []],
        "bucket 8192" => [8192 << 50, []],
        "2**63" => [2**63, []],
        "2**64 - 1" => [2**64 - 1, []]
      }
      starts.each do |what, (from, expected)|
        assert_equal expected, values_in(db, namespace: "o", from: from), "scan from #{what}"
      end
      assert_equal [], values_in(db, namespace: "absent", from: zero[1]), "scan of a missing namespace"
      assert_usable(db, namespace: "o")
    end
  end

  # Integers that are no uint64 are refused before libroche sees them
  # (Roche::InvalidArgument, the one error for every bad argument value),
  # by scans too, so no negative number is ever read as a huge offset.
  def test_3_offsets_outside_64_bits_are_refused_by_every_read
    assert_every_read_refuses([-1, -2**70, 2**64, 2**100], Roche::InvalidArgument)
  end

  # get, a multi_get item and a scan's start all refuse each bad offset
  # with error; the store stays usable.
  def assert_every_read_refuses(bad_offsets, error)
    open_store do |db|
      offset = db.append("x")
      bad_offsets.each do |bad|
        assert_raises(error) { db.get(bad) }
        assert_raises(error) { db.multi_get([offset, bad]) }
        assert_raises(error) { db.each(from: bad) { flunk "scanned from #{bad.inspect}" } }
      end
      assert_usable(db)
    end
  end

  # --- 4. Huge and odd values ----------------------------------------------

  def test_4_values_of_1_mib_and_64_mib_round_trip
    open_store do |db|
      mib = Random.new(1).bytes(1 << 20)
      offset = db.append(mib)
      assert(mib == db.get(offset), "1 MiB value differs after get")
      assert(mib == db.multi_get([offset]).first, "1 MiB value differs after multi_get")
      assert(mib == db.each.first[1], "1 MiB value differs after each")

      big = Random.new(64).bytes(64 << 20)
      offset = db.append(big, namespace: "big")
      read = db.get(offset, namespace: "big")
      assert_equal big.bytesize, read.bytesize
      assert(big == read, "64 MiB value differs after get")
    end
  end

  # No test allocates 4 GiB: a String whose #bytesize says 2**32 while it
  # holds one byte makes the gem hand libroche that length, which libroche
  # checks against ROCHE_MAX_VALUE before it touches any byte. Its message
  # quotes the length, so a length cut to 32 bits on the way would show.
  def test_4_value_over_4_gib_is_too_big_and_nothing_is_written
    huge = String.new("x")
    def huge.bytesize
      2**32
    end
    open_store do |db|
      db.append("before")
      error = assert_roche_error(Roche::TooBig, ETOOBIG) { db.append(huge) }
      assert_includes error.message, (2**32).to_s
      error = assert_roche_error(Roche::TooBig, ETOOBIG) { db.append_many(["fits", huge]) }
      assert_includes error.message, (2**32).to_s
      assert_equal ["before"], values_in(db)
      assert_usable(db)
    end
  end

  def test_4_utf8_value_is_stored_as_its_bytes_and_read_as_binary
    open_store do |db|
      text = "naïve ☃ 日本"
      broken = "bad \xE2\x98" # not valid UTF-8, still a UTF-8 String
      assert_equal [Encoding::UTF_8, false, false], [text.encoding, text.ascii_only?, broken.valid_encoding?]
      offsets = [db.append(text), db.append(broken)]
      reads = [offsets.map { |offset| db.get(offset) }, db.multi_get(offsets), values_in(db)]
      reads.each do |values|
        assert_equal [text.b, broken.b], values
        assert_equal [Encoding::BINARY] * 2, values.map(&:encoding)
      end
    end
  end

  # --- 5. Wrong types ------------------------------------------------------

  def test_5_offsets_of_other_types_are_type_errors
    assert_every_read_refuses([1.0, 0.5, Rational(0), Object.new, [0]], TypeError)
  end

  def test_5_values_of_other_types_are_type_errors_and_write_nothing
    open_store do |db|
      db.append("before")
      [{ "a" => "b" }, %w[a b], 1.5, :symbol, Object.new].each do |bad|
        assert_raises(TypeError) { db.append(bad) }
        assert_raises(TypeError) { db.append_many(["fits", bad]) }
      end
      assert_equal ["before"], values_in(db)
      assert_usable(db)
    end
  end

  def test_5_namespaces_of_other_types_are_type_errors_in_every_call
    open_store do |db|
      offset = db.append("x")
      [1, 1.5, Object.new, ["default"]].each do |bad|
        namespace_calls(db, bad, offset).each do |name, call|
          assert_raises(TypeError, "#{name} with namespace #{bad.inspect}") { call.call }
        end
      end
      assert_equal ["default"], db.namespaces
      assert_usable(db)
    end
  end

  def test_5_bad_namespace_names_are_invalid_and_create_nothing
    open_store do |db|
      offset = db.append("x", namespace: "")
      assert_equal ["default"], db.namespaces
      assert_equal "x", db.get(offset, namespace: "default")
      tree = store_tree
      [".", "..", "a/b", ".hidden", "n" * 256].each do |bad|
        namespace_calls(db, bad, offset).each do |name, call|
          assert_roche_error(Roche::InvalidArgument, EINVAL, "#{name} with namespace #{bad.inspect}") { call.call }
        end
      end
      assert_equal tree, store_tree
      assert_equal ["default"], db.namespaces
      assert_usable(db, namespace: "n" * 255) # the longest valid name
    end
  end

  def test_5_bad_bucket_counts_fail_at_the_option_before_open
    { 0 => Roche::InvalidArgument, 8192 => Roche::InvalidArgument, -1 => Roche::InvalidArgument, 2**32 => Roche::InvalidArgument,
      "8" => TypeError, 8.0 => TypeError }.each do |buckets, error_class|
      error = assert_raises(error_class, "buckets: #{buckets.inspect}") { open_store(buckets: buckets) }
      if error_class == Roche::InvalidArgument
        assert_equal EINVAL, error.code
        assert_match(/buckets must be between 1 and 8191/, error.message) # roche_options_set_buckets' detail
      end
      refute File.exist?(@root), "buckets: #{buckets.inspect} reached roche_open()"
    end
    open_store(buckets: 8191, &:close)
    open_store { |db| assert_usable(db) }
  end

  # --- 6. Threads ------------------------------------------------------------

  # With sync: :always, single appends release the GVL (the other rows of
  # this section are in threads_test.rb).
  def test_6_threads_appending_without_the_gvl_read_everything_back
    open_store(sync: :always, buckets: 4) do |db|
      written = Array.new(4) do |t|
        Thread.new { Array.new(10) { |i| ["t#{t} v#{i}", db.append("t#{t} v#{i}")] } }
      end.flat_map(&:value)
      assert_equal written.map(&:first), db.multi_get(written.map(&:last))
      assert_equal written.map(&:first).sort, values_in(db).sort
    end
  end

  private

  # The matrix's proof that a store survived a bad call.
  def assert_usable(db, namespace: nil)
    value = "still usable\0after #{name}"
    offset = db.append(value, namespace: namespace)
    assert_equal value, db.get(offset, namespace: namespace)
  end

  def assert_roche_error(error_class, code, message = nil, &block)
    error = assert_raises(error_class, *message, &block)
    assert_equal code, error.code, message
    error
  end

  def values_in(db, namespace: nil, from: nil)
    db.each(namespace: namespace, from: from).map { |record| record[1] }
  end

  # Every call that takes a namespace, with the given one.
  def namespace_calls(db, namespace, offset)
    { append: -> { db.append("x", namespace: namespace) },
      append_many: -> { db.append_many(%w[x y], namespace: namespace) },
      get: -> { db.get(offset, namespace: namespace) },
      multi_get: -> { db.multi_get([offset], namespace: namespace) },
      each: -> { db.each(namespace: namespace) { flunk "scanned #{namespace.inspect}" } },
      stat: -> { db.stat(namespace: namespace) },
      sync: -> { db.sync(namespace: namespace) },
      close_namespace: -> { db.close_namespace(namespace: namespace) },
      delete_namespace: -> { db.delete_namespace(namespace: namespace) } }
  end

  # Every path under the test's directory, the store's root included.
  def store_tree
    Dir.glob("**/*", File::FNM_DOTMATCH, base: @dir).sort
  end
end
