module stash/test/tools/swiftserver

go 1.19

require github.com/ncw/swift/v2 v2.0.3
