package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadCluster(t *testing.T) {
	cfg, err := LoadCluster(env(nil))
	require.NoError(t, err)
	assert.Nil(t, cfg.PostgresURL, "no URL means a throwaway PostgreSQL")

	cfg, err = LoadCluster(env(map[string]string{"CLUSTER_POSTGRES_URL": "postgres://t:secret@db:5433"}))
	require.NoError(t, err)
	require.NotNil(t, cfg.PostgresURL)
	assert.Equal(t, "db", cfg.PostgresURL.Hostname())
	assert.Equal(t, "5433", cfg.PostgresURL.Port())

	for _, bad := range []string{"mysql://t@db:3306", "postgres://db:5432", "postgres://t@db", "postgres://t@db:5432/temporal"} {
		t.Run(bad, func(t *testing.T) {
			_, err := LoadCluster(env(map[string]string{"CLUSTER_POSTGRES_URL": bad}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "CLUSTER_POSTGRES_URL")
		})
	}
}
