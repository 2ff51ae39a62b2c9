// Package rosbag reads ROS 2 bags (rosbag2) without ROS: SQLite3 (.db3) and
// MCAP (.mcap) storage, split into several files or not, with message- or
// file-level zstd compression, as recorded by every ROS 2 distribution from
// Foxy to Jazzy (metadata.yaml versions 4 to 9).
//
// A bag is a directory holding metadata.yaml and its storage files, or a lone
// storage file. [Open] reads the metadata, [Bag.Info] describes the bag as
// `ros2 bag info` does (see [WriteInfo]), and [Bag.Messages] iterates the
// messages of some or all topics in log-time order across topics and files.
// Messages carry their serialized (CDR) bytes; package cdr decodes them.
//
// Reading is bounded: a corrupt file yields an error, never a panic, and no
// length read from a file makes the reader allocate more than the file holds
// or, for compressed data, more than [Options.MaxChunkSize].
//
// Usage:
//
//	bag, err := rosbag.Open(ctx, "recordings/run1")
//	if err != nil {
//		return err
//	}
//	defer bag.Close()
//	it, err := bag.Messages(ctx, "/camera/image_raw")
//	if err != nil {
//		return err
//	}
//	defer it.Close()
//	for it.Next() {
//		m := it.Message()
//		fmt.Println(m.Topic, m.Type, m.LogTime, len(m.Data))
//	}
//	return it.Err()
package rosbag

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Storage identifiers of the formats this package reads.
const (
	StorageSQLite3 = "sqlite3"
	StorageMCAP    = "mcap"
)

// DefaultMaxChunkSize is the default of [Options.MaxChunkSize]: 512 MiB.
const DefaultMaxChunkSize = 512 << 20

// Errors that callers can test with errors.Is.
var (
	// ErrUnsupported means the bag uses a feature this package does not
	// read: an unknown storage, compression or metadata version.
	ErrUnsupported = errors.New("rosbag: unsupported bag")
	// ErrCorrupt means a storage file or metadata.yaml is malformed.
	ErrCorrupt = errors.New("rosbag: corrupt bag")
	// ErrNoTopic means a requested topic is not in the bag.
	ErrNoTopic = errors.New("rosbag: no such topic")
	// ErrClosed means the bag was closed.
	ErrClosed = errors.New("rosbag: bag closed")
)

// Options tune how a bag is opened. The zero value is ready to use.
type Options struct {
	// TempDir is where file-compressed storage files are decompressed
	// while the bag is open. It defaults to os.TempDir().
	TempDir string
	// MaxChunkSize bounds the memory one MCAP chunk or record, or one
	// decompressed message, may take. Larger ones fail with ErrUnsupported.
	// It defaults to DefaultMaxChunkSize.
	MaxChunkSize int64
	// AllowTruncated reads an MCAP file that was cut short (its writer was
	// killed) up to its last whole record, instead of failing with
	// ErrCorrupt at the cut.
	AllowTruncated bool
}

// initialize fills in defaults and validates o.
func (o *Options) initialize() error {
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	if o.MaxChunkSize == 0 {
		o.MaxChunkSize = DefaultMaxChunkSize
	}
	if o.MaxChunkSize < 0 {
		return fmt.Errorf("rosbag: Options.MaxChunkSize must not be negative, got %d", o.MaxChunkSize)
	}
	return nil
}

// Info describes a bag: the content of its metadata.yaml or, for a lone
// storage file or a directory without one, what the files themselves say.
type Info struct {
	// Version is the metadata.yaml format version, 0 without metadata.yaml.
	Version int
	// StorageID is StorageSQLite3 or StorageMCAP.
	StorageID string
	// ROSDistro names the ROS distribution that recorded the bag, when the
	// bag says (metadata version 7 and later, or the storage file).
	ROSDistro string
	// RelativeFilePaths are the storage files, relative to the bag
	// directory, as stored (a file-compressed file keeps its .zstd suffix).
	RelativeFilePaths []string
	// Files holds what metadata.yaml (version 5 and later) says of each
	// file, or what each file holds when the bag has no metadata.yaml.
	Files []FileInfo
	// Size is the size in bytes of the bag: the files of its directory, or
	// the lone file.
	Size int64
	// Start is the log time of the earliest message.
	Start time.Time
	// Duration is the span from the earliest to the latest log time.
	Duration time.Duration
	// MessageCount is the number of messages in the bag.
	MessageCount uint64
	// Topics are the recorded topics, in the bag's order.
	Topics []TopicInfo
	// CompressionFormat is "zstd" when the bag is compressed, else "".
	CompressionFormat string
	// CompressionMode is "FILE" or "MESSAGE" when the bag is compressed,
	// else "".
	CompressionMode string
	// CustomData is the user data of metadata.yaml (version 6 and later).
	CustomData map[string]string
	// MCAPMetadata are the metadata records of the MCAP storage files, by
	// name (the first file's, when several have one), for a bag without
	// metadata.yaml, such as a lone .mcap file.
	MCAPMetadata map[string]map[string]string
}

// End returns the log time of the latest message: Start + Duration.
func (i Info) End() time.Time { return i.Start.Add(i.Duration) }

// Topic returns the named topic, or nil.
func (i Info) Topic(name string) *TopicInfo {
	for k := range i.Topics {
		if i.Topics[k].Name == name {
			return &i.Topics[k]
		}
	}
	return nil
}

// FileInfo describes one storage file.
type FileInfo struct {
	// Path is the file's name as the metadata gives it; rosbag2 gives
	// the decompressed name of a file-compressed file.
	Path string
	// Start is the log time of the file's earliest message.
	Start time.Time
	// Duration spans the file's earliest to latest log time.
	Duration time.Duration
	// MessageCount is the number of messages in the file.
	MessageCount uint64
}

// TopicInfo describes one topic of a bag.
type TopicInfo struct {
	// Name is the topic, e.g. "/camera/image_raw".
	Name string
	// Type is the ROS 2 type, e.g. "sensor_msgs/msg/Image".
	Type string
	// SerializationFormat is how messages are serialized, normally "cdr".
	SerializationFormat string
	// TypeDescriptionHash is the type's RIHS01 hash (metadata version 8 and
	// later), or "".
	TypeDescriptionHash string
	// MessageCount is the number of messages on the topic.
	MessageCount uint64
	// OfferedQoS are the QoS profiles the topic's publishers offered.
	OfferedQoS []QoS
}

// Bag is an open rosbag2 bag. Its methods are safe for concurrent use; each
// iterator it returns is not.
type Bag struct {
	opts  Options
	dir   string
	info  Info
	files []storageFile

	mu     sync.Mutex
	closed bool
	temps  map[string]string // compressed path → decompressed temporary copy
}

// storageFile is one storage file of the bag.
type storageFile struct {
	path        string // as stored
	storage     string // StorageSQLite3 or StorageMCAP
	compression string // file-level compression format, or ""
	start       int64  // earliest log time when known, else math.MinInt64
}

// Open opens the bag at path with default Options.
func Open(ctx context.Context, path string) (*Bag, error) {
	return Options{}.Open(ctx, path)
}

// Open opens the bag at path: a bag directory, its metadata.yaml, or a lone
// .db3 or .mcap file (optionally .zstd-compressed). A directory without
// metadata.yaml is read from its storage files, as `ros2 bag reindex` would.
func (o Options) Open(ctx context.Context, path string) (*Bag, error) {
	if err := o.initialize(); err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("rosbag: %w", err)
	}
	b := &Bag{opts: o, temps: map[string]string{}}
	if !st.IsDir() && filepath.Base(path) == metadataFile {
		path, st = filepath.Dir(path), nil
	}
	switch {
	case st == nil || st.IsDir():
		b.dir = path
		err = b.openDir(ctx)
	default:
		b.dir = filepath.Dir(path)
		err = b.openFiles(ctx, []string{filepath.Base(path)}, st.Size())
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// openDir reads a bag directory.
func (b *Bag) openDir(ctx context.Context) error {
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return fmt.Errorf("rosbag: %w", err)
	}
	var size int64
	var stores []string
	hasMeta := false
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err == nil {
			size += fi.Size()
		}
		if e.Name() == metadataFile {
			hasMeta = true
		} else if _, _, ok := storageOf(e.Name()); ok {
			stores = append(stores, e.Name())
		}
	}
	if !hasMeta {
		if len(stores) == 0 {
			return fmt.Errorf("%w: %s has neither %s nor .db3 or .mcap files", ErrCorrupt, b.dir, metadataFile)
		}
		sortSplitNames(stores)
		return b.openFiles(ctx, stores, size)
	}
	data, err := readLimited(filepath.Join(b.dir, metadataFile), maxMetadataSize)
	if err != nil {
		return err
	}
	info, err := parseMetadata(data)
	if err != nil {
		return fmt.Errorf("%w (%s)", err, filepath.Join(b.dir, metadataFile))
	}
	info.Size = size
	b.info = info
	fileCompressed := strings.EqualFold(info.CompressionMode, "file")
	for i, rel := range info.RelativeFilePaths {
		sf := storageFile{path: filepath.Join(b.dir, rel), storage: info.StorageID, start: math.MinInt64}
		if _, err := os.Stat(sf.path); err != nil {
			return fmt.Errorf("%w: %s lists %s: %w", ErrCorrupt, metadataFile, rel, err)
		}
		if fileCompressed {
			sf.compression = strings.ToLower(info.CompressionFormat)
		}
		if i < len(info.Files) && !info.Files[i].Start.IsZero() {
			sf.start = info.Files[i].Start.UnixNano()
		}
		b.files = append(b.files, sf)
	}
	return nil
}

// openFiles builds the bag's Info from storage files alone.
func (b *Bag) openFiles(ctx context.Context, names []string, size int64) error {
	var sums []fileSummary
	for _, name := range names {
		storage, compression, ok := storageOf(name)
		if !ok {
			return fmt.Errorf("%w: %s is not a .db3 or .mcap file", ErrUnsupported, name)
		}
		if len(b.files) > 0 && storage != b.files[0].storage {
			return fmt.Errorf("%w: %s mixes %s and %s files", ErrUnsupported, b.dir, b.files[0].storage, storage)
		}
		sf := storageFile{path: filepath.Join(b.dir, name), storage: storage, compression: compression, start: math.MinInt64}
		b.files = append(b.files, sf)
		path, err := b.local(ctx, sf)
		if err != nil {
			return err
		}
		sum, err := summarize(ctx, path, storage, &b.opts)
		if err != nil {
			return err
		}
		sum.name = name
		if compression != "" && sum.compressionMode == "" {
			sum.compressionFormat, sum.compressionMode = compression, "FILE"
		}
		sums = append(sums, sum)
		if sum.count > 0 {
			b.files[len(b.files)-1].start = sum.start
		}
	}
	b.info = mergeSummaries(sums, size)
	b.info.RelativeFilePaths = names
	return nil
}

// storageOf tells the storage and file-level compression of a file name.
func storageOf(name string) (storage, compression string, ok bool) {
	base := strings.ToLower(name)
	if s, found := strings.CutSuffix(base, ".zstd"); found {
		base, compression = s, "zstd"
	}
	switch filepath.Ext(base) {
	case ".db3":
		return StorageSQLite3, compression, true
	case ".mcap":
		return StorageMCAP, compression, true
	}
	return "", "", false
}

// sortSplitNames orders split files as rosbag2 numbers them: name_0, name_1,
// …, name_10.
func sortSplitNames(names []string) {
	num := func(s string) (string, int) {
		stem := s[:len(s)-len(filepath.Ext(strings.TrimSuffix(s, ".zstd")))]
		stem = strings.TrimSuffix(stem, ".zstd")
		i := strings.LastIndexByte(stem, '_')
		if i < 0 {
			return stem, -1
		}
		n := 0
		for _, c := range stem[i+1:] {
			if c < '0' || c > '9' || n > math.MaxInt32/10 {
				return stem, -1
			}
			n = n*10 + int(c-'0')
		}
		return stem[:i], n
	}
	sort.SliceStable(names, func(i, j int) bool {
		si, ni := num(names[i])
		sj, nj := num(names[j])
		if si != sj {
			return names[i] < names[j]
		}
		return ni < nj
	})
}

// Info returns a description of the bag.
func (b *Bag) Info() Info { return b.info }

// Close removes the bag's decompressed temporary files. Iterators still
// open on the bag fail from then on.
func (b *Bag) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	var errs []error
	for k, p := range b.temps {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("rosbag: remove temporary copy: %w", err))
		}
		delete(b.temps, k)
	}
	return errors.Join(errs...)
}

// local returns the path of a storage file that can be read as it is,
// decompressing a file-compressed one into TempDir the first time.
func (b *Bag) local(ctx context.Context, sf storageFile) (string, error) {
	if sf.compression == "" {
		return sf.path, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return "", ErrClosed
	}
	if p, ok := b.temps[sf.path]; ok {
		return p, nil
	}
	p, err := decompressFile(ctx, sf.path, sf.compression, b.opts.TempDir, b.opts.MaxChunkSize)
	if err != nil {
		return "", err
	}
	b.temps[sf.path] = p
	return p, nil
}
