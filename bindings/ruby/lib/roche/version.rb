# frozen_string_literal: true

module Roche
  # The gem's version; it follows libroche's (ROCHE_VERSION_* in roche.h).
  VERSION = "0.1.0"
end
