// Package interceptors holds nothing itself: each concern is a package of its own (work in progress; see issue 11).
package interceptors
