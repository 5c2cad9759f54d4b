# frozen_string_literal: true

require "test_helper"

# Data written from Ruby read from C, and the reverse, through the
# roche_interop C program (ROCHE_INTEROP names it; ctest sets it).
class InteropTest < RocheTest
  VALUES = ["hello", "", "nul\0byte", "\xff\x00\x80".b, "ü".encode("UTF-16BE"), "z" * 5000].freeze

  def setup
    super
    @interop = ENV["ROCHE_INTEROP"]
    skip "set ROCHE_INTEROP to the roche_interop program" unless @interop && File.executable?(@interop)
  end

  def test_ruby_writes_c_reads
    offsets = open_store { |db| VALUES.map { |value| db.append(value, namespace: "from-ruby") } }
    output = interop("read", "from-ruby", *offsets.map(&:to_s), "123456789")
    assert_equal VALUES.map { |value| value.unpack1("H*") } + ["ERR #{Roche::Native::ENOTFOUND}"],
                 output.lines(chomp: true)
  end

  def test_c_writes_ruby_reads
    output = interop("write", "from-c", *VALUES.map { |value| value.unpack1("H*") })
    offsets = output.lines.map { |line| Integer(line) }
    open_store(read_only: true) do |db|
      assert_equal VALUES.map(&:b), offsets.map { |offset| db.get(offset, namespace: "from-c") }
      assert_equal VALUES.map(&:b), db.multi_get(offsets, namespace: "from-c")
      assert_equal VALUES.map(&:b), db.each(namespace: "from-c").map { |_offset, value, _time| value }
    end
  end

  def test_c_reads_while_ruby_holds_the_writer_lock
    open_store do |db|
      offset = db.append("live", namespace: "shared")
      assert_equal ["6c697665"], interop("read", "shared", offset.to_s).lines(chomp: true)
    end
  end

  private

  def interop(command, namespace, *args)
    output = IO.popen([@interop, command, @root, namespace, *args], &:read)
    assert_predicate $?, :success?, "roche_interop #{command} failed: #{output}"
    output
  end
end
