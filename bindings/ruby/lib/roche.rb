# frozen_string_literal: true

require_relative "roche/version"
require_relative "roche/native"
require_relative "roche/errors"
require_relative "roche/handle"
require_relative "roche/db"
require_relative "roche/follower"

# libroche, rochefort's append-only blob store, from Ruby.
module Roche
  # Open the store at path (created if needed, unless read_only).
  #   buckets:   bucket files per namespace (libroche's default is 8)
  #   read_only: open without the writer lock; writes raise Roche::ReadOnly
  #   sync:      :never (the default) or :always (fsync each append)
  #   format:    :roche (the default) or :rochefort, the record headers'
  #              check (rochefort v0.5's, for a store a rochefort server
  #              takes turns on; see roche_options_set_format in roche.h).
  #              A namespace in the other format raises Roche::Corrupt.
  #   retention: {max_age: seconds, max_bytes: n}: the writer drops, about
  #              once a second, the records of each namespace it has open
  #              that are older than max_age or past the newest max_bytes
  #              (see DB#retain); a limit left out is off
  # With a block, yields the store, closes it afterwards and returns the
  # block's value; without one, returns the open Roche::DB.
  def self.open(path, **options)
    db = DB.new(path, **options)
    return db unless block_given?

    begin
      yield db
    ensure
      db.close
    end
  end

  # The version of the loaded libroche, e.g. "0.1.0".
  def self.library_version
    Native.roche_version
  end
end
