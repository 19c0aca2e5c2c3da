// Package anr is the box's ANR (Automatic Network Replenishment) spool: it makes each
// event clip durable on local disk before anything depends on it, orders clips for
// upload, keeps a disk budget with an explicit eviction policy, survives kill -9 and
// power loss, and counts every clip it ever drops.
package anr
