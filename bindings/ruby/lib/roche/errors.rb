# frozen_string_literal: true

module Roche
  # Every failure libroche reports, carrying its return code (#code, one of
  # libroche's negative ROCHE_E* values) and message. The message is
  # libroche's text for the code, followed by the detail of the failing call
  # when there is one (a path, an errno text).
  #
  # #offset is the record the failure is about, when the call knows it: a
  # get or multi_get slot, or the record a follower reports (Dropped,
  # Corrupt); nil otherwise.
  class Error < StandardError
    attr_reader :code, :offset

    def initialize(message = nil, code: nil, offset: nil)
      super(message)
      @code = code
      @offset = offset
    end
  end

  class InvalidArgument < Error; end
  class NotFound < Error; end
  class Corrupt < Error; end
  class IOFailure < Error; end
  class NoMemory < Error; end
  class TooBig < Error; end
  class Locked < Error; end
  class ReadOnly < Error; end
  class Internal < Error; end
  # Nothing new within the timeout (Follower#next returns nil instead).
  class TimedOut < Error; end
  # Follower#wake ended the wait: raised by Follower#next; Follower#each
  # returns instead.
  class Canceled < Error; end
  # Retention (DB#retain or the retention: option) dropped the record. From
  # a follower: #offset is where it was in that bucket, and the next call
  # goes on from the bucket's first record kept.
  class Dropped < Error; end
  # The file system cannot do it (retention needs hole punching).
  class NotSupported < Error; end

  # The store was closed; raised by every call on it afterwards. Its code is
  # nil: the Ruby side refuses the call before libroche sees it.
  class Closed < Error
    def initialize(message = "the store is closed")
      super(message)
    end
  end

  ERROR_CLASSES = {
    Native::EINVAL => InvalidArgument,
    Native::ENOTFOUND => NotFound,
    Native::ECORRUPT => Corrupt,
    Native::EIO => IOFailure,
    Native::ENOMEM => NoMemory,
    Native::ETOOBIG => TooBig,
    Native::ELOCKED => Locked,
    Native::EREADONLY => ReadOnly,
    Native::EINTERNAL => Internal,
    Native::ETIMEDOUT => TimedOut,
    Native::ECANCELED => Canceled,
    Native::EDROPPED => Dropped,
    Native::ENOTSUP => NotSupported
  }.freeze
  private_constant :ERROR_CLASSES

  # The exception for a libroche return code; detail is appended when given.
  def self.error_for(code, detail = nil, offset: nil)
    message = Native.roche_strerror(code)
    message = "#{message}: #{detail}" if detail && !detail.empty?
    ERROR_CLASSES.fetch(code, Error).new(message, code: code, offset: offset)
  end

  # Raise for a failing return code. Call it right after the C call, on the
  # same thread, so roche_last_error() still describes that call.
  def self.check(code, offset: nil)
    return code if code >= 0

    raise error_for(code, Native.roche_last_error, offset: offset)
  end
end
