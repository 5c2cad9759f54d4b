# frozen_string_literal: true

require_relative "lib/roche/version"

Gem::Specification.new do |spec|
  spec.name = "roche"
  spec.version = Roche::VERSION
  spec.summary = "libroche, rochefort's append-only blob store, from Ruby through ffi"
  spec.description = <<~TEXT
    Push data, get a file offset back: Ruby bindings to libroche.so, the
    embeddable C library of rochefort's storage. Pure Ruby over the ffi gem;
    libroche itself is found through ROCHE_LIB, pkg-config or the system loader.
  TEXT
  spec.authors = ["libroche authors"]
  spec.homepage = "https://github.com/jackdoe/rochefort"
  spec.files = Dir.chdir(__dir__) { Dir["lib/**/*.rb"] + ["README.md", "roche.gemspec"] }
  spec.require_paths = ["lib"]
  spec.required_ruby_version = ">= 2.7"
  spec.add_runtime_dependency "ffi", "~> 1.12"
end
