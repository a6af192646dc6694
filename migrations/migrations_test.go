package migrations

import "testing"

func TestDialectsShareVersions(t *testing.T) {
	pg, err := For(Postgres)
	if err != nil {
		t.Fatal(err)
	}
	lite, err := For(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) != len(lite) || len(pg) < 3 {
		t.Fatalf("postgres has %d migrations, sqlite %d", len(pg), len(lite))
	}
	for i := range pg {
		if pg[i].Version != lite[i].Version || pg[i].Name != lite[i].Name {
			t.Errorf("migration %d: postgres %d_%s, sqlite %d_%s", i, pg[i].Version, pg[i].Name, lite[i].Version, lite[i].Name)
		}
	}
	if Latest(Postgres) != len(pg) {
		t.Errorf("Latest = %d", Latest(Postgres))
	}
	if _, err := For("oracle"); err == nil {
		t.Error("unknown dialect accepted")
	}
}
