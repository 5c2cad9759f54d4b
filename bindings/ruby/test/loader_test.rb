# frozen_string_literal: true

require "test_helper"

# How the gem finds libroche.so.
class LoaderTest < RocheTest
  def test_roche_lib_is_the_only_candidate_when_set
    assert_equal [ENV.fetch("ROCHE_LIB")], Roche::Native.library_candidates if ENV["ROCHE_LIB"]
    output = ruby_child(<<~RUBY, env: { "ROCHE_LIB" => File.join(@dir, "missing.so") })
      begin
        require "roche"
      rescue LoadError => e
        puts e.message.lines.first
      end
    RUBY
    assert_equal "libroche not found; set ROCHE_LIB to the path of libroche.so\n", output
  end

  def test_build_tree_is_found_without_roche_lib
    skip "no build*/ tree in this checkout" if Roche::Native.build_tree_libraries.empty?
    output = ruby_child(<<~RUBY, env: { "ROCHE_LIB" => nil })
      require "roche"
      puts Roche::Native.library_candidates.first, Roche.library_version
    RUBY
    assert_equal [Roche::Native.build_tree_libraries.first, Roche.library_version], output.lines(chomp: true)
  end
end
