package rosbag

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // the pure-Go "sqlite" database/sql driver
)

// sqliteTopic is one row of a .db3 file's topics table.
type sqliteTopic struct {
	id   int64
	info TopicInfo
}

// openSQLite opens a .db3 file read-only and reads its topics table.
func openSQLite(ctx context.Context, path string) (*sql.DB, []sqliteTopic, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, fmt.Errorf("rosbag: open %s: %w", path, err)
	}
	dsn := (&url.URL{Scheme: "file", Path: abs, RawQuery: "mode=ro&immutable=1"}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("rosbag: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	topics, err := readSQLiteTopics(ctx, db)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, filepath.Base(path), err)
	}
	return db, topics, nil
}

// readSQLiteTopics reads the topics table, whichever of its layouts the file
// has (schema 3 without type_description_hash, schema 4 with it).
func readSQLiteTopics(ctx context.Context, db *sql.DB) ([]sqliteTopic, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM topics ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("read topics: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("read topics: %w", err)
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []sqliteTopic
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read topics: %w", err)
		}
		var t sqliteTopic
		var qos string
		haveID := false
		for i, c := range cols {
			v := vals[i].String
			switch strings.ToLower(c) {
			case "id":
				t.id, err = strconv.ParseInt(v, 10, 64)
				haveID = err == nil && vals[i].Valid
			case "name":
				t.info.Name = v
			case "type":
				t.info.Type = v
			case "serialization_format":
				t.info.SerializationFormat = v
			case "offered_qos_profiles":
				qos = v
			case "type_description_hash":
				t.info.TypeDescriptionHash = v
			}
		}
		if !haveID || t.info.Name == "" || t.info.Type == "" {
			return nil, fmt.Errorf("topics row %q has no id, name or type", t.info.Name)
		}
		if t.info.OfferedQoS, err = parseQoS(qos); err != nil {
			return nil, fmt.Errorf("topic %s: %w", t.info.Name, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read topics: %w", err)
	}
	return out, nil
}

// sqliteTables lists the tables of a .db3 file.
func sqliteTables(ctx context.Context, db *sql.DB) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table'")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tables := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		tables[name] = true
	}
	return tables, rows.Err()
}

// summarizeSQLite reads what a .db3 file says about itself.
func summarizeSQLite(ctx context.Context, path string) (fileSummary, error) {
	db, topics, err := openSQLite(ctx, path)
	if err != nil {
		return fileSummary{}, err
	}
	defer db.Close()
	fail := func(err error) (fileSummary, error) {
		return fileSummary{}, fmt.Errorf("%w: %s: %w", ErrCorrupt, filepath.Base(path), err)
	}
	sum := fileSummary{storage: StorageSQLite3}
	tables, err := sqliteTables(ctx, db)
	if err != nil {
		return fail(err)
	}
	if tables["schema"] {
		// Not an error when absent or odd: only informational.
		_ = db.QueryRowContext(ctx, "SELECT ros_distro FROM schema ORDER BY schema_version DESC LIMIT 1").Scan(&sum.rosDistro)
	}
	if tables["metadata"] {
		var meta string
		if db.QueryRowContext(ctx, "SELECT metadata FROM metadata ORDER BY id DESC LIMIT 1").Scan(&meta) == nil {
			sum.compressionFormat, sum.compressionMode = compressionOf(meta)
		}
	}
	byID := map[int64]int{}
	for i, t := range topics {
		byID[t.id] = i
		sum.topics = append(sum.topics, t.info)
	}
	rows, err := db.QueryContext(ctx, "SELECT topic_id, COUNT(*), MIN(timestamp), MAX(timestamp) FROM messages GROUP BY topic_id")
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, lo, hi int64
		var n uint64
		if err := rows.Scan(&id, &n, &lo, &hi); err != nil {
			return fail(err)
		}
		k, ok := byID[id]
		if !ok {
			continue // as rosbag2 does, messages of unknown topics are ignored
		}
		sum.topics[k].MessageCount = n
		if sum.count == 0 || lo < sum.start {
			sum.start = lo
		}
		if sum.count == 0 || hi > sum.end {
			sum.end = hi
		}
		sum.count += n
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	return sum, nil
}

// sqliteReader iterates the messages of one .db3 file in log-time order.
type sqliteReader struct {
	name   string
	db     *sql.DB
	rows   *sql.Rows
	topics map[int64]*TopicInfo

	compression string // message-level compression format, or ""
	dec         *decompressor
	buf         []byte
}

// newSQLiteReader opens path and starts the query for the wanted topics
// (all when want is nil).
func newSQLiteReader(ctx context.Context, path string, want map[string]bool, compression string, opts *Options) (*sqliteReader, error) {
	db, topics, err := openSQLite(ctx, path)
	if err != nil {
		return nil, err
	}
	r := &sqliteReader{name: filepath.Base(path), db: db, topics: map[int64]*TopicInfo{}, compression: compression}
	if compression != "" {
		r.dec = newDecompressor(opts.MaxChunkSize)
	}
	var ids []string
	for i := range topics {
		t := &topics[i]
		if want == nil || want[t.info.Name] {
			r.topics[t.id] = &t.info
			ids = append(ids, strconv.FormatInt(t.id, 10))
		}
	}
	if len(ids) == 0 {
		return r, nil
	}
	// Split bags number topics per file, so the ids come from this file. The
	// primary key breaks ties in the order rosbag2 wrote the rows.
	q := "SELECT topic_id, timestamp, data FROM messages WHERE topic_id IN (" + strings.Join(ids, ",") + ") ORDER BY timestamp, id"
	r.rows, err = db.QueryContext(ctx, q)
	if err != nil {
		_ = r.close() // the query's error is the one to report
		return nil, fmt.Errorf("%w: %s: read messages: %w", ErrCorrupt, r.name, err)
	}
	return r, nil
}

func (r *sqliteReader) next(m *Message) (bool, error) {
	if r.rows == nil {
		return false, nil
	}
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return false, fmt.Errorf("%w: %s: read messages: %w", ErrCorrupt, r.name, err)
		}
		return false, nil
	}
	var id, ts int64
	var data sql.RawBytes
	if err := r.rows.Scan(&id, &ts, &data); err != nil {
		return false, fmt.Errorf("%w: %s: read messages: %w", ErrCorrupt, r.name, err)
	}
	t := r.topics[id]
	if r.compression != "" {
		var err error
		r.buf, err = r.dec.decode(r.compression, data, r.buf, -1)
		if err != nil {
			return false, fmt.Errorf("%s: message on %s at %d: %w", r.name, t.Name, ts, err)
		}
		data = r.buf
	}
	*m = Message{Topic: t.Name, Type: t.Type, LogTime: ts, Data: data}
	return true, nil
}

func (r *sqliteReader) close() error {
	r.dec.close()
	if r.rows != nil {
		r.rows.Close()
	}
	return r.db.Close()
}
