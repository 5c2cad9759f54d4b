# frozen_string_literal: true

# A tour of the roche gem. Run it with the demo command, or by hand:
#   ROCHE_LIB=build/libroche/libroche.so ruby -Ibindings/ruby/lib examples/ruby/example.rb [ROOT]
require "roche"
require "tmpdir"

def tour(root)
  Roche.open(root, buckets: 4) do |db|
    # Push data, get a file offset back. Values are bytes: NULs are fine.
    offset = db.append("hello\0world", id: "user-42", namespace: "events")
    puts "appended at #{offset}: #{db.get(offset, namespace: 'events').inspect}"

    # Batches amortize the cost of each call.
    offsets = db.append_many(%w[one two three], id: "user-42", namespace: "events")
    puts "batch offsets: #{offsets.inspect}"

    # multi_get answers in request order; a bad offset gives a Roche::Error
    # in its place instead of failing the others.
    db.multi_get([offsets[2], 123_456_789, offsets[0]], namespace: "events").each do |item|
      puts "  multi_get: #{item.is_a?(Roche::Error) ? "error #{item.class} (#{item.message})" : item.inspect}"
    end

    # Walk a namespace; without a block each returns an Enumerator.
    db.each(namespace: "events") do |record_offset, value, time|
      puts "  #{record_offset} #{time.utc.strftime('%H:%M:%S.%N')} #{value.inspect}"
    end
    puts "records in events: #{db.each(namespace: 'events').count}"

    begin
      db.get(offset + 1, namespace: "events")
    rescue Roche::Corrupt => e
      puts "reading inside a record: #{e.class}: #{e.message}"
    end

    db.sync
    db.append("café", namespace: "événements")        # any name: namespaces come back as Dir names them
    puts "namespaces: #{db.namespaces.inspect}"
    puts "événements listed: #{db.namespaces.include?('événements')}"
    puts "events: #{db.stat(namespace: 'events')[:records]} records"
    puts "records in the default namespace: #{db.count}"  # a DB is Enumerable over it
    db.delete_namespace(namespace: "événements")
  end
end

if ARGV[0]
  tour(ARGV[0])
else
  Dir.mktmpdir("roche-example") { |root| tour(root) }
end
