package rosbag

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/peernet/peernet_go/peernet_go/internal/errline"
)

const (
	// metadataFile is the name of a bag's metadata.
	metadataFile = "metadata.yaml"
	// maxMetadataSize bounds how much of metadata.yaml is read.
	maxMetadataSize = 64 << 20
	// Metadata versions this package reads.
	minVersion = 4
	maxVersion = 9
)

// metadataYAML is metadata.yaml as rosbag2 writes it.
type metadataYAML struct {
	Info *bagfileYAML `yaml:"rosbag2_bagfile_information"`
}

type bagfileYAML struct {
	Version           int          `yaml:"version"`
	StorageIdentifier string       `yaml:"storage_identifier"`
	Duration          durationYAML `yaml:"duration"`
	StartingTime      timeYAML     `yaml:"starting_time"`
	MessageCount      uint64       `yaml:"message_count"`
	Topics            []struct {
		TopicMetadata struct {
			Name                string    `yaml:"name"`
			Type                string    `yaml:"type"`
			SerializationFormat string    `yaml:"serialization_format"`
			OfferedQoSProfiles  yaml.Node `yaml:"offered_qos_profiles"`
			TypeDescriptionHash string    `yaml:"type_description_hash"`
		} `yaml:"topic_metadata"`
		MessageCount uint64 `yaml:"message_count"`
	} `yaml:"topics_with_message_count"`
	CompressionFormat string   `yaml:"compression_format"`
	CompressionMode   string   `yaml:"compression_mode"`
	RelativeFilePaths []string `yaml:"relative_file_paths"`
	Files             []struct {
		Path         string       `yaml:"path"`
		StartingTime timeYAML     `yaml:"starting_time"`
		Duration     durationYAML `yaml:"duration"`
		MessageCount uint64       `yaml:"message_count"`
	} `yaml:"files"`
	CustomData map[string]string `yaml:"custom_data"`
	ROSDistro  string            `yaml:"ros_distro"`
}

type durationYAML struct {
	Nanoseconds int64 `yaml:"nanoseconds"`
}

type timeYAML struct {
	NanosecondsSinceEpoch int64 `yaml:"nanoseconds_since_epoch"`
}

// parseMetadata parses the content of a metadata.yaml.
func parseMetadata(data []byte) (Info, error) {
	var doc metadataYAML
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Info{}, fmt.Errorf("%w: metadata: %s", ErrCorrupt, errline.First(err.Error()))
	}
	m := doc.Info
	if m == nil {
		return Info{}, fmt.Errorf("%w: metadata: no rosbag2_bagfile_information", ErrCorrupt)
	}
	if m.Version < minVersion || m.Version > maxVersion {
		return Info{}, fmt.Errorf("%w: metadata version %d (this package reads versions %d to %d)", ErrUnsupported, m.Version, minVersion, maxVersion)
	}
	info := Info{
		Version:           m.Version,
		StorageID:         m.StorageIdentifier,
		ROSDistro:         m.ROSDistro,
		RelativeFilePaths: m.RelativeFilePaths,
		Start:             time.Unix(0, m.StartingTime.NanosecondsSinceEpoch),
		Duration:          time.Duration(m.Duration.Nanoseconds),
		MessageCount:      m.MessageCount,
		CompressionFormat: m.CompressionFormat,
		CompressionMode:   m.CompressionMode,
		CustomData:        m.CustomData,
	}
	switch info.StorageID {
	case StorageSQLite3, StorageMCAP:
	case "":
		return Info{}, fmt.Errorf("%w: metadata: no storage_identifier", ErrCorrupt)
	default:
		return Info{}, fmt.Errorf("%w: storage %q (this package reads %s and %s)", ErrUnsupported, info.StorageID, StorageSQLite3, StorageMCAP)
	}
	if info.Duration < 0 {
		return Info{}, fmt.Errorf("%w: metadata: negative duration %d ns", ErrCorrupt, m.Duration.Nanoseconds)
	}
	if err := checkCompression(info.CompressionFormat, info.CompressionMode); err != nil {
		return Info{}, err
	}
	if len(info.RelativeFilePaths) == 0 {
		return Info{}, fmt.Errorf("%w: metadata: no relative_file_paths", ErrCorrupt)
	}
	for _, p := range info.RelativeFilePaths {
		if !filepath.IsLocal(p) {
			return Info{}, fmt.Errorf("%w: metadata: file %q is outside the bag directory", ErrCorrupt, p)
		}
	}
	for _, f := range m.Files {
		if f.Duration.Nanoseconds < 0 {
			return Info{}, fmt.Errorf("%w: metadata: file %q has a negative duration", ErrCorrupt, f.Path)
		}
		info.Files = append(info.Files, FileInfo{
			Path:         f.Path,
			Start:        time.Unix(0, f.StartingTime.NanosecondsSinceEpoch),
			Duration:     time.Duration(f.Duration.Nanoseconds),
			MessageCount: f.MessageCount,
		})
	}
	seen := map[string]bool{}
	for _, t := range m.Topics {
		tm := t.TopicMetadata
		if tm.Name == "" || tm.Type == "" {
			return Info{}, fmt.Errorf("%w: metadata: topic %q without name or type", ErrCorrupt, tm.Name)
		}
		if seen[tm.Name] {
			return Info{}, fmt.Errorf("%w: metadata: topic %q listed twice", ErrCorrupt, tm.Name)
		}
		seen[tm.Name] = true
		qos, err := parseQoSNode(&tm.OfferedQoSProfiles)
		if err != nil {
			return Info{}, fmt.Errorf("%w: metadata: topic %s: %w", ErrCorrupt, tm.Name, err)
		}
		info.Topics = append(info.Topics, TopicInfo{
			Name:                tm.Name,
			Type:                tm.Type,
			SerializationFormat: tm.SerializationFormat,
			TypeDescriptionHash: tm.TypeDescriptionHash,
			MessageCount:        t.MessageCount,
			OfferedQoS:          qos,
		})
	}
	return info, nil
}

// checkCompression accepts what this package can decompress.
func checkCompression(format, mode string) error {
	switch strings.ToLower(mode) {
	case "", "none":
		return nil
	case "file", "message":
		switch strings.ToLower(format) {
		case "zstd", "lz4":
			return nil
		}
		return fmt.Errorf("%w: compression format %q (this package reads zstd and lz4)", ErrUnsupported, format)
	}
	return fmt.Errorf("%w: compression mode %q (this package reads FILE and MESSAGE)", ErrUnsupported, mode)
}

// compressionOf parses the compression fields of metadata that a storage
// file embeds (the sqlite metadata table, the MCAP "rosbag2" record), with
// or without the rosbag2_bagfile_information level.
func compressionOf(data string) (format, mode string) {
	var doc struct {
		Info *struct {
			Format string `yaml:"compression_format"`
			Mode   string `yaml:"compression_mode"`
		} `yaml:"rosbag2_bagfile_information"`
		Format string `yaml:"compression_format"`
		Mode   string `yaml:"compression_mode"`
	}
	if yaml.Unmarshal([]byte(data), &doc) != nil {
		return "", ""
	}
	if doc.Info != nil {
		return doc.Info.Format, doc.Info.Mode
	}
	return doc.Format, doc.Mode
}

// readLimited reads a whole file of at most max bytes.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rosbag: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("rosbag: read %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrCorrupt, path, max)
	}
	return data, nil
}

// fileSummary is what one storage file says about itself.
type fileSummary struct {
	name              string
	storage           string
	rosDistro         string
	compressionFormat string
	compressionMode   string
	topics            []TopicInfo
	metadata          map[string]map[string]string
	count             uint64
	start, end        int64 // log times, valid when count > 0
}

// mergeSummaries builds the Info of a bag without metadata.yaml.
func mergeSummaries(sums []fileSummary, size int64) Info {
	info := Info{Size: size}
	start, end := int64(math.MaxInt64), int64(math.MinInt64)
	index := map[string]int{}
	for _, s := range sums {
		info.StorageID = s.storage
		if info.ROSDistro == "" {
			info.ROSDistro = s.rosDistro
		}
		if info.CompressionMode == "" {
			info.CompressionFormat, info.CompressionMode = s.compressionFormat, s.compressionMode
		}
		fi := FileInfo{Path: strings.TrimSuffix(s.name, ".zstd"), MessageCount: s.count}
		if s.count > 0 {
			fi.Start = time.Unix(0, s.start)
			fi.Duration = time.Duration(s.end - s.start)
			start, end = min(start, s.start), max(end, s.end)
		}
		info.Files = append(info.Files, fi)
		info.MessageCount += s.count
		for name, m := range s.metadata {
			if info.MCAPMetadata == nil {
				info.MCAPMetadata = map[string]map[string]string{}
			}
			if _, ok := info.MCAPMetadata[name]; !ok {
				info.MCAPMetadata[name] = m
			}
		}
		for _, t := range s.topics {
			if k, ok := index[t.Name]; ok {
				info.Topics[k].MessageCount += t.MessageCount
				continue
			}
			index[t.Name] = len(info.Topics)
			info.Topics = append(info.Topics, t)
		}
	}
	if info.MessageCount > 0 {
		info.Start = time.Unix(0, start)
		info.Duration = time.Duration(end - start)
	}
	return info
}

var errNotQoS = errors.New("offered_qos_profiles is neither a list nor a YAML string")
