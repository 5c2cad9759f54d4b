# frozen_string_literal: true

require "minitest/autorun"
require "tmpdir"
require "fileutils"
require "rbconfig"
require "roche"

# Each test gets a fresh store root in a temporary directory.
class RocheTest < Minitest::Test
  LIB_DIR = File.expand_path("../lib", __dir__)

  def setup
    @dir = Dir.mktmpdir("roche-ruby-test")
    @root = File.join(@dir, "store")
  end

  def teardown
    FileUtils.remove_entry(@dir)
  end

  def open_store(**options, &block)
    Roche.open(@root, **options, &block)
  end

  # Run Ruby code in a child process with this gem on its load path; env
  # changes the child's environment (nil removes a variable).
  def ruby_child(code, *args, env: {})
    IO.popen(env, [RbConfig.ruby, "-I", LIB_DIR, "-e", code, *args], err: %i[child out], &:read)
  end
end
