# frozen_string_literal: true

require "test_helper"
require "rubygems/package"

# `gem build` packages the library files and the gemspec loads cleanly.
class GemTest < RocheTest
  GEM_DIR = File.expand_path("..", __dir__)

  def test_gem_build_packages_the_library
    gem_file = File.join(@dir, "roche.gem")
    output = IO.popen(["gem", "build", "roche.gemspec", "--output", gem_file],
                      chdir: GEM_DIR, err: %i[child out], &:read)
    assert_predicate $?, :success?, output
    spec = Gem::Package.new(gem_file).spec
    assert_equal Roche::VERSION, spec.version.to_s
    assert_includes spec.files, "lib/roche.rb"
    assert_includes spec.files, "lib/roche/db.rb"
    assert_equal ["ffi"], spec.runtime_dependencies.map(&:name)
  end
end
