package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/api"
)

// Docker cannot run in CI here, so these tests check what can be checked
// without it: the manifests parse, refer to each other consistently, probe
// the endpoints the binary serves, and the Dockerfile builds the command
// the module actually has.

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("module root not found above e2e/: %v", err)
	}
	return dir
}

func readFile(t *testing.T, parts ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// k8sObject is one parsed manifest document.
type k8sObject struct {
	file string
	doc  yamlNode
}

func (o k8sObject) kind() string { return str(o.doc, "kind") }
func (o k8sObject) name() string { return str(o.doc, "metadata", "name") }

func loadK8s(t *testing.T) map[string][]k8sObject {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "deploy", "k8s")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", dir, err)
	}
	byKind := map[string][]k8sObject{}
	for _, f := range files {
		base := filepath.Base(f)
		for i, d := range splitYAMLDocs(readFile(t, f)) {
			doc, err := parseYAML(d)
			if err != nil {
				t.Fatalf("%s document %d: %v", base, i, err)
			}
			o := k8sObject{file: base, doc: doc}
			if str(doc, "apiVersion") == "" || o.kind() == "" {
				t.Fatalf("%s document %d: apiVersion and kind are required", base, i)
			}
			if o.kind() != "Kustomization" && o.name() == "" {
				t.Fatalf("%s document %d (%s): metadata.name is required", base, i, o.kind())
			}
			byKind[o.kind()] = append(byKind[o.kind()], o)
		}
	}
	return byKind
}

func find(t *testing.T, objs map[string][]k8sObject, kind, name string) k8sObject {
	t.Helper()
	for _, o := range objs[kind] {
		if o.name() == name {
			return o
		}
	}
	t.Fatalf("no %s named %q in deploy/k8s", kind, name)
	return k8sObject{}
}

func TestK8sManifests(t *testing.T) {
	objs := loadK8s(t)
	root := repoRoot(t)

	t.Run("kustomization lists every manifest", func(t *testing.T) {
		k := objs["Kustomization"]
		if len(k) != 1 {
			t.Fatalf("want one Kustomization, got %d", len(k))
		}
		var listed []string
		for _, r := range seq(k[0].doc, "resources") {
			listed = append(listed, r.(string))
		}
		files, _ := filepath.Glob(filepath.Join(root, "deploy", "k8s", "*.yaml"))
		for _, f := range files {
			b := filepath.Base(f)
			if b != "kustomization.yaml" && !slices.Contains(listed, b) {
				t.Errorf("%s is not listed in kustomization.yaml resources", b)
			}
		}
		for _, r := range listed {
			if _, err := os.Stat(filepath.Join(root, "deploy", "k8s", r)); err != nil {
				t.Errorf("kustomization.yaml lists %s: %v", r, err)
			}
		}
	})

	for _, d := range objs["Deployment"] {
		t.Run("Deployment "+d.name(), func(t *testing.T) {
			checkDeployment(t, objs, d)
		})
	}

	t.Run("services select deployments", func(t *testing.T) {
		for _, s := range objs["Service"] {
			sel := mapping(s.doc, "spec", "selector")
			if len(sel) == 0 {
				t.Errorf("Service %s has no selector", s.name())
				continue
			}
			d := matchingDeployment(objs, sel)
			if d == nil {
				t.Errorf("Service %s selects no Deployment's pods", s.name())
				continue
			}
			for _, p := range seq(s.doc, "spec", "ports") {
				target := str(p, "targetPort")
				if !slices.Contains(containerPortNames(*d), target) {
					t.Errorf("Service %s targets port %q, not declared by Deployment %s", s.name(), target, d.name())
				}
				if target == "admin" {
					t.Errorf("Service %s exposes the unauthenticated admin port", s.name())
				}
			}
		}
	})

	t.Run("autoscalers and budgets point at deployments", func(t *testing.T) {
		for _, h := range objs["HorizontalPodAutoscaler"] {
			target := str(h.doc, "spec", "scaleTargetRef", "name")
			find(t, objs, "Deployment", target)
			if n, _ := strconv.Atoi(str(h.doc, "spec", "minReplicas")); n < 2 {
				t.Errorf("HPA %s: minReplicas below 2 leaves no replica during a disruption", h.name())
			}
		}
		for _, p := range objs["PodDisruptionBudget"] {
			if matchingDeployment(objs, mapping(p.doc, "spec", "selector", "matchLabels")) == nil {
				t.Errorf("PodDisruptionBudget %s selects no Deployment's pods", p.name())
			}
		}
	})

	t.Run("ingress routes the three roles to services", func(t *testing.T) {
		for _, in := range objs["Ingress"] {
			var hosts []string
			for _, r := range seq(in.doc, "spec", "rules") {
				hosts = append(hosts, str(r, "host"))
				for _, p := range seq(r, "http", "paths") {
					find(t, objs, "Service", str(p, "backend", "service", "name"))
				}
			}
			if len(hosts) < 3 {
				t.Errorf("Ingress %s: want one host per role (gateway, issuer, service), got %v", in.name(), hosts)
			}
			if len(seq(in.doc, "spec", "tls")) == 0 {
				t.Errorf("Ingress %s has no TLS", in.name())
			}
		}
	})

	t.Run("serve configuration parses", func(t *testing.T) {
		cm := find(t, objs, "ConfigMap", "blindlist-config")
		data := str(cm.doc, "data", "serve.json")
		if data == "" {
			t.Fatal("ConfigMap blindlist-config has no serve.json")
		}
		fc, err := api.ParseFileConfig([]byte(data), "/etc/blindlist")
		if err != nil {
			t.Fatal(err)
		}
		if fc.KeyStore.Backend != "redis" {
			t.Errorf("keyStore.backend = %q: several replicas need the shared Redis store", fc.KeyStore.Backend)
		}
		if fc.AdminListen == "" || !strings.HasSuffix(fc.AdminListen, ":9090") {
			t.Errorf("adminListen = %q, the probes use port 9090", fc.AdminListen)
		}
		// The build Job must write as many shards as the service loads.
		job := find(t, objs, "Job", "blindlist-build")
		shards := ""
		for _, c := range seq(job.doc, "spec", "template", "spec", "containers") {
			for _, a := range seq(c, "args") {
				if v, ok := strings.CutPrefix(a.(string), "--shards="); ok {
					shards = v
				}
			}
		}
		if want := strconv.Itoa(fc.Vendors[0].Usecases[0].ShardCount); shards != want {
			t.Errorf("build Job writes --shards=%q, serve.json loads shardCount %s", shards, want)
		}
	})
}

func matchingDeployment(objs map[string][]k8sObject, sel map[string]any) *k8sObject {
	for i, d := range objs["Deployment"] {
		labels := mapping(d.doc, "spec", "template", "metadata", "labels")
		ok := len(sel) > 0
		for k, v := range sel {
			if labels[k] != v {
				ok = false
			}
		}
		if ok {
			return &objs["Deployment"][i]
		}
	}
	return nil
}

func containerPortNames(d k8sObject) []string {
	var names []string
	for _, c := range seq(d.doc, "spec", "template", "spec", "containers") {
		for _, p := range seq(c, "ports") {
			names = append(names, str(p, "name"))
		}
	}
	return names
}

func checkDeployment(t *testing.T, objs map[string][]k8sObject, d k8sObject) {
	sel := mapping(d.doc, "spec", "selector", "matchLabels")
	labels := mapping(d.doc, "spec", "template", "metadata", "labels")
	for k, v := range sel {
		if labels[k] != v {
			t.Errorf("selector %s=%v does not match the pod template labels", k, v)
		}
	}
	pod := mapping(d.doc, "spec", "template", "spec")
	if str(pod, "securityContext", "runAsNonRoot") != "true" {
		t.Error("pod securityContext.runAsNonRoot must be true")
	}
	// With fsGroup, kubelet re-chmods volumes group-readable on every mount
	// unless told not to; the seed and issuer keys must stay 0600.
	if str(pod, "securityContext", "fsGroup") != "" && str(pod, "securityContext", "fsGroupChangePolicy") != "OnRootMismatch" {
		t.Error("pod sets fsGroup without fsGroupChangePolicy: OnRootMismatch")
	}
	volumes := map[string]yamlNode{}
	for _, v := range seq(pod, "volumes") {
		volumes[str(v, "name")] = v
		if s := str(v, "secret", "secretName"); s != "" {
			find(t, objs, "Secret", s)
		}
		if c := str(v, "configMap", "name"); c != "" {
			find(t, objs, "ConfigMap", c)
		}
		if c := str(v, "persistentVolumeClaim", "claimName"); c != "" {
			find(t, objs, "PersistentVolumeClaim", c)
		}
	}
	containers := seq(pod, "containers")
	if len(containers) == 0 {
		t.Fatal("no containers")
	}
	for _, c := range containers {
		if str(c, "image") != "blindlist" {
			t.Errorf("container %s: image %q, want the kustomize image name \"blindlist\"", str(c, "name"), str(c, "image"))
		}
		args := seq(c, "args")
		if len(args) == 0 {
			t.Errorf("container %s: no args (subcommand)", str(c, "name"))
		} else {
			checkSubcommand(t, args[0].(string))
		}
		ports := map[string]bool{}
		for _, p := range seq(c, "ports") {
			ports[str(p, "name")] = true
		}
		// The endpoints each subcommand serves for probes.
		probePaths := map[string]map[string]string{
			"serve":   {"livenessProbe": "/healthz", "readinessProbe": "/readyz"},
			"gateway": {"livenessProbe": "/healthz", "readinessProbe": "/readyz"},
		}
		sub := ""
		if len(args) > 0 {
			sub = args[0].(string)
		}
		for _, probe := range []string{"livenessProbe", "readinessProbe"} {
			want, known := probePaths[sub][probe]
			if !known {
				t.Errorf("container %s: no known probe endpoints for subcommand %q", str(c, "name"), sub)
				continue
			}
			got := str(c, probe, "httpGet", "path")
			if got != want {
				t.Errorf("container %s: %s path %q, want %q", str(c, "name"), probe, got, want)
			}
			if port := str(c, probe, "httpGet", "port"); !ports[port] {
				t.Errorf("container %s: %s port %q is not a declared port", str(c, "name"), probe, port)
			}
		}
		for _, r := range []string{"cpu", "memory"} {
			if str(c, "resources", "requests", r) == "" {
				t.Errorf("container %s: no resources.requests.%s", str(c, "name"), r)
			}
		}
		if str(c, "resources", "limits", "memory") == "" {
			t.Errorf("container %s: no memory limit", str(c, "name"))
		}
		if str(c, "securityContext", "readOnlyRootFilesystem") != "true" || str(c, "securityContext", "allowPrivilegeEscalation") != "false" {
			t.Errorf("container %s: want a read-only root filesystem and no privilege escalation", str(c, "name"))
		}
		for _, m := range seq(c, "volumeMounts") {
			if _, ok := volumes[str(m, "name")]; !ok {
				t.Errorf("container %s mounts undeclared volume %q", str(c, "name"), str(m, "name"))
			}
		}
	}
}

// checkSubcommand fails unless cmd/blindlist registers name. It reads the
// command table's source, since package main cannot be imported.
func checkSubcommand(t *testing.T, name string) {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "cmd", "blindlist")
	var src strings.Builder
	for _, f := range []string{"main.go", "commands.go"} {
		src.WriteString(readFile(t, dir, f))
	}
	if !strings.Contains(src.String(), `{"`+name+`",`) {
		t.Errorf("subcommand %q is not registered in cmd/blindlist", name)
	}
}

func TestCompose(t *testing.T) {
	root := repoRoot(t)
	doc, err := parseYAML(readFile(t, root, "deploy", "compose.yaml"))
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	services := mapping(doc, "services")
	for _, want := range []string{"redis", "gateway", "relay", "build"} {
		if services[want] == nil {
			t.Errorf("compose.yaml has no %q service", want)
		}
	}
	// At least two replicas of serve, reachable under one name the
	// gateway's upstream uses.
	replicas := 0
	for _, s := range services {
		if cmd := seq(s, "command"); len(cmd) > 0 && cmd[0] == "serve" {
			replicas++
			if !slices.Contains(seq(s, "networks", "default", "aliases"), any("service")) {
				t.Errorf("a serve replica lacks the network alias \"service\"")
			}
		}
	}
	if replicas < 2 {
		t.Errorf("compose.yaml runs %d serve replicas, want at least 2", replicas)
	}
	if up := seq(services, "gateway", "command"); !slices.Contains(up, any("--upstream=http://service:8080")) {
		t.Errorf("gateway command %q does not forward to http://service:8080", up)
	}
	base := mapping(doc, "x-blindlist")
	if df := str(base, "build", "dockerfile"); df != "" {
		ctx := filepath.Join(root, "deploy", str(base, "build", "context"))
		if _, err := os.Stat(filepath.Join(ctx, df)); err != nil {
			t.Errorf("build.dockerfile: %v", err)
		}
		if _, err := os.Stat(filepath.Join(ctx, "go.mod")); err != nil {
			t.Errorf("build.context must be the module root: %v", err)
		}
	}
	for name, s := range services {
		if name == "redis" {
			continue
		}
		if str(s, "<<") != "*blindlist" {
			t.Errorf("service %s does not use the blindlist image anchor", name)
		}
		cmd := seq(s, "command")
		if len(cmd) == 0 {
			t.Errorf("service %s has no command", name)
			continue
		}
		checkSubcommand(t, cmd[0].(string))
		for _, v := range seq(s, "volumes") {
			src, _, _ := strings.Cut(v.(string), ":")
			if strings.HasPrefix(src, "./compose/") {
				if _, err := os.Stat(filepath.Join(root, "deploy", src)); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
			}
		}
		for _, p := range seq(s, "ports") {
			if !strings.HasPrefix(p.(string), "127.0.0.1:") {
				t.Errorf("service %s publishes %q beyond loopback", name, p)
			}
		}
	}
	fc, err := api.ParseFileConfig([]byte(readFile(t, root, "deploy", "compose", "serve.json")), "/etc/blindlist")
	if err != nil {
		t.Fatalf("deploy/compose/serve.json: %v", err)
	}
	if fc.KeyStore.Backend != "redis" {
		t.Errorf("compose serve.json keyStore.backend = %q, want redis (two replicas)", fc.KeyStore.Backend)
	}
}

func TestDockerfile(t *testing.T) {
	root := repoRoot(t)
	df := readFile(t, root, "deploy", "Dockerfile")
	var stages, runs []string
	user := ""
	for _, l := range logicalLines(df) {
		switch f := strings.Fields(l); strings.ToUpper(f[0]) {
		case "FROM":
			stages = append(stages, l)
		case "RUN":
			runs = append(runs, l)
		case "USER":
			user = f[1]
		}
	}
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d FROM lines", len(stages))
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "0" || u == "root" {
		t.Errorf("runtime USER = %q, want a non-root user", user)
	}
	// The runtime stage: FROM scratch, a numeric non-root user, and line
	// for line what Dockerfile.prebuilt (the no-registry build TestDocker
	// runs) says, so the image that was run is the image vendors build.
	rt := dockerfileRuntime(t, df)
	if rt.from != "scratch" {
		t.Errorf("runtime stage FROM %s, want scratch", rt.from)
	}
	if u, g, _ := strings.Cut(rt.user, ":"); !isNumeric(u) || !isNumeric(g) || u == "0" {
		t.Errorf("runtime USER %q: want numeric uid:gid, not root (runAsNonRoot checks numbers)", rt.user)
	}
	for _, pair := range [][2]string{
		{"Dockerfile", "Dockerfile.prebuilt"},
		{"redis/Dockerfile", "redis/Dockerfile.prebuilt"},
	} {
		a := dockerfileRuntime(t, readFile(t, root, "deploy", pair[0]))
		b := dockerfileRuntime(t, readFile(t, root, "deploy", pair[1]))
		if !slices.Equal(a.lines, b.lines) {
			t.Errorf("runtime stages differ:\n %s: %q\n %s: %q", pair[0], a.lines, pair[1], b.lines)
		}
	}
	// Lint: pinned base images, named stages that exist, no ADD, exec-form
	// ENTRYPOINT and CMD, files the RUN lines use present in the context.
	for _, name := range []string{"Dockerfile", "Dockerfile.prebuilt", "redis/Dockerfile", "redis/Dockerfile.prebuilt"} {
		lintDockerfile(t, name, readFile(t, root, "deploy", name))
	}
	for _, f := range []string{"deploy/image-rootfs.sh", "deploy/redis/rootfs.sh"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("used by a Dockerfile: %v", err)
		}
	}
	// The registry-free build compiles with the same flags.
	script := readFile(t, root, "deploy", "build-images.sh")
	for _, flag := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags="-s -w -buildid="`, "./cmd/blindlist"} {
		if !strings.Contains(df, flag) || !strings.Contains(script, flag) {
			t.Errorf("Dockerfile and build-images.sh must both build with %s", flag)
		}
	}

	build := regexp.MustCompile(`go build .*-o (\S+) (\./\S+)`)
	var pkg string
	for _, r := range runs {
		if m := build.FindStringSubmatch(r); m != nil {
			pkg = m[2]
			if !strings.Contains(r, "CGO_ENABLED=0") {
				t.Errorf("the build must be static: %q lacks CGO_ENABLED=0", r)
			}
		}
	}
	if pkg == "" {
		t.Fatal("no `go build -o OUT ./PKG` in the Dockerfile")
	}
	main := readFile(t, root, filepath.FromSlash(pkg), "main.go")
	if !strings.Contains(main, "package main") {
		t.Errorf("%s is not a main package", pkg)
	}

	// The builder's Go must be at least go.mod's go directive.
	goMod := readFile(t, root, "go.mod")
	want := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(goMod)
	got := regexp.MustCompile(`ARG GO_VERSION=(\d+\.\d+)`).FindStringSubmatch(df)
	if want == nil || got == nil {
		t.Fatalf("go directive %v or ARG GO_VERSION %v not found", want, got)
	}
	if versionLess(got[1], want[1]) {
		t.Errorf("Dockerfile GO_VERSION %s is older than go.mod's go %s", got[1], want[1])
	}

	// The runtime command must name a registered subcommand.
	cmd := regexp.MustCompile(`CMD \["([a-z]+)"`).FindStringSubmatch(df)
	if cmd == nil {
		t.Fatal("no CMD [\"subcommand\", ...] in the Dockerfile")
	}
	checkSubcommand(t, cmd[1])
}

func isNumeric(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil && s != ""
}

// lintDockerfile checks what hadolint would, within what deploy/ uses.
func lintDockerfile(t *testing.T, name, df string) {
	t.Helper()
	stages := map[string]bool{}
	args := map[string]bool{}
	for _, l := range logicalLines(df) {
		f := strings.Fields(l)
		switch op := strings.ToUpper(f[0]); op {
		case "ARG":
			k, _, _ := strings.Cut(f[1], "=")
			args[k] = true
		case "FROM":
			img := f[1]
			if img != "scratch" {
				ref := regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllStringFunc(img, func(v string) string {
					if !args[v[2:len(v)-1]] {
						t.Errorf("%s: FROM %s uses an undeclared ARG", name, img)
					}
					return "x"
				})
				if _, tag, ok := strings.Cut(ref[strings.LastIndex(ref, "/")+1:], ":"); !ok || tag == "latest" {
					t.Errorf("%s: FROM %s: pin a tag", name, img)
				}
			}
			if len(f) == 4 && strings.EqualFold(f[2], "AS") {
				stages[f[3]] = true
			}
		case "COPY":
			for _, a := range f[1:] {
				if from, ok := strings.CutPrefix(a, "--from="); ok && !stages[from] {
					t.Errorf("%s: COPY --from=%s names no earlier stage", name, from)
				}
			}
		case "ADD":
			t.Errorf("%s: ADD: use COPY", name)
		case "ENTRYPOINT", "CMD":
			if !strings.HasPrefix(strings.TrimSpace(l[len(f[0]):]), "[") {
				t.Errorf("%s: %s in shell form: the image has no shell", name, op)
			}
		case "WORKDIR":
			if !strings.HasPrefix(f[1], "/") {
				t.Errorf("%s: WORKDIR %s is not absolute", name, f[1])
			}
		case "RUN":
			if strings.Contains(l, "apt-get install") && (!strings.Contains(l, "--no-install-recommends") || !strings.Contains(l, "rm -rf /var/lib/apt/lists")) {
				t.Errorf("%s: apt-get install without --no-install-recommends and list cleanup", name)
			}
		}
	}
}

// logicalLines joins backslash continuations and drops comments.
func logicalLines(df string) []string {
	var out []string
	var cur strings.Builder
	for _, l := range strings.Split(df, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "#") || (t == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\") + " ")
			continue
		}
		cur.WriteString(t)
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	return out
}

func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range 2 {
		if len(pa[i]) != len(pb[i]) {
			return len(pa[i]) < len(pb[i])
		}
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}
