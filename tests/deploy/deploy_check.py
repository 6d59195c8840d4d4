#!/usr/bin/python3
"""Static checks of deploy/ and the Dockerfile: every YAML and JSON file parses, the Grafana
dashboard is well formed, and the cross-references between files hold (ports, service names,
mounted paths, metric names, package lists). There is no Docker engine, Grafana or kubeconform
here; promtool and docker-compose check what they can in their own CTest entries.

Usage: deploy_check.py [--root REPO] [--bin-dir BUILD/bin]
Exits 1 and prints one line per problem (file: what is wrong) when a check fails.
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys

import yaml

# Grafana's own variables; every other $name in a query must be a dashboard variable.
GRAFANA_BUILTINS = {"__rate_interval", "__interval", "__range", "__interval_ms", "__range_s"}
# PromQL words that look like metric names in a regex scan.
PROMQL_WORDS = {
    "sum", "by", "rate", "increase", "histogram_quantile", "and", "or", "on", "abs", "time",
    "deriv", "le", "without", "unless", "ignoring", "max", "min", "avg", "count", "delta",
    "state", "code", "method", "job_id", "split", "job", "instance", "humanize", "bool", "Inf",
}
# Packages of the Debian base image that every binary links (libc, libstdc++, libgcc).
BASE_IMAGE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1"}


class Checker:
    def __init__(self, root):
        self.root = root
        self.problems = []

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def fail(self, where, message):
        self.problems.append("{}: {}".format(where, message))

    def expect(self, condition, where, message):
        if not condition:
            self.fail(where, message)
        return condition

    def load_yaml(self, relative):
        with open(self.path(relative)) as f:
            return yaml.safe_load(f)

    def load_yaml_all(self, relative):
        with open(self.path(relative)) as f:
            return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def host_port(address):
    host, _, port = address.rpartition(":")
    return host, int(port)


def flag_value(args, name):
    """The value of --name in an argument list (--name=V or --name V), else None."""
    for i, arg in enumerate(args):
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
        if arg == name and i + 1 < len(args):
            return args[i + 1]
    return None


def metric_names(expr):
    """Metric names a PromQL expression selects (ours start with ft_; plus `up`)."""
    names = set()
    for match in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b\s*(\{|\[|\)|$|\s|==|!=|/|>|<)",
                             expr):
        word = match.group(1)
        if word.startswith("ft_") or word == "up":
            names.add(word)
    return names


METRICS_DOC = os.path.join("docs", "operations.md")


def documented_metrics(checker):
    """Metric name -> type from the "Metrics" table of docs/operations.md."""
    with open(checker.path(METRICS_DOC)) as f:
        text = f.read()
    section = text.split("\n## Metrics\n", 1)
    if not checker.expect(len(section) == 2, METRICS_DOC, 'no "## Metrics" section'):
        return {}
    table = {}
    for line in section[1].split("\n## ", 1)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].startswith("`ft_"):
            table[cells[0].strip("`")] = cells[1]
    return table


def base_name(series_name, documented):
    """ft_x_bucket / _sum / _count of a documented histogram -> ft_x."""
    for suffix in ("_bucket", "_sum", "_count"):
        if series_name.endswith(suffix) and series_name[: -len(suffix)] in documented:
            return series_name[: -len(suffix)]
    return series_name


def check_all_files_parse(c):
    for folder, _, files in os.walk(c.path("deploy")):
        for name in files:
            full = os.path.join(folder, name)
            relative = os.path.relpath(full, c.root)
            try:
                with open(full) as f:
                    if name.endswith((".yaml", ".yml")):
                        list(yaml.safe_load_all(f))
                    elif name.endswith(".json"):
                        json.load(f)
            except (yaml.YAMLError, ValueError) as error:
                c.fail(relative, "does not parse: {}".format(str(error).replace("\n", " ")))


def check_metrics_catalogue(c, documented):
    """Every metric server/metrics/*.cc registers is in docs/operations.md's table and the other
    way round, with the same type."""
    folder = c.path("server", "metrics")
    source = ""
    for name in sorted(os.listdir(folder)):
        if name.endswith(".cc"):
            with open(os.path.join(folder, name)) as f:
                source += f.read()
    registered = {}
    for match in re.finditer(r"Build(Counter|Gauge|Histogram)\(\)\s*\.Name\(\"([a-z_0-9]+)\"\)",
                             source):
        registered[match.group(2)] = match.group(1).lower()
    c.expect(len(registered) >= 20, "server_metrics.cc", "found only {} metric families".format(
        len(registered)))
    for name, kind in registered.items():
        if c.expect(name in documented, METRICS_DOC, "metric {} is not in the Metrics table".format(
                name)):
            c.expect(documented[name] == kind, METRICS_DOC,
                     "{} is a {} but the table says {}".format(name, kind, documented[name]))
    for name in documented:
        c.expect(name in registered, METRICS_DOC,
                 "{} is in the Metrics table but server/metrics/ registers no such metric".format(
                     name))


def check_expressions_use_known_metrics(c, where, exprs, documented):
    for expr in exprs:
        for name in metric_names(expr):
            if name == "up":
                continue
            c.expect(base_name(name, documented) in documented, where,
                     "expression uses {}, which ftd does not export: {}".format(name, expr))


def dashboard_exprs(dashboard):
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            if "expr" in target:
                yield panel, target["expr"]


def check_dashboard(c, documented):
    where = "deploy/grafana/dashboards/ftd.json"
    with open(c.path(where)) as f:
        dashboard = json.load(f)
    for key in ("uid", "title", "panels", "templating", "schemaVersion"):
        c.expect(key in dashboard, where, "missing top-level key " + key)
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    c.expect("datasource" in variables and variables["datasource"].get("type") == "datasource"
             and variables["datasource"].get("query") == "prometheus", where,
             "needs a `datasource` variable of type datasource (prometheus)")
    job = variables.get("job_id", {})
    c.expect(job.get("type") == "query" and "label_values(" in json.dumps(job.get("query")), where,
             "needs a `job_id` query variable (label_values over a per-job metric)")
    c.expect(job.get("multi") and job.get("includeAll"), where,
             "the job selector should allow several jobs and All")

    ids = [p.get("id") for p in dashboard.get("panels", [])]
    c.expect(len(ids) == len(set(ids)) and None not in ids, where,
             "panel ids must be present and unique: {}".format(ids))
    kinds = set()
    for panel in dashboard.get("panels", []):
        name = "{} panel {} ({})".format(where, panel.get("id"), panel.get("title"))
        grid = panel.get("gridPos", {})
        c.expect(all(k in grid for k in ("h", "w", "x", "y")) and grid.get("x", 0) +
                 grid.get("w", 0) <= 24, name, "needs a gridPos within 24 columns")
        if panel.get("type") == "row":
            continue
        kinds.add(panel.get("type"))
        c.expect(panel.get("datasource", {}).get("uid") == "${datasource}", name,
                 "datasource must be the ${datasource} variable")
        targets = panel.get("targets", [])
        if not c.expect(targets, name, "has no targets"):
            continue
        refs = [t.get("refId") for t in targets]
        c.expect(len(refs) == len(set(refs)) and None not in refs, name, "refIds must be unique")
        for target in targets:
            c.expect(target.get("expr"), name, "a target without expr")
            c.expect(target.get("datasource", {}).get("uid") == "${datasource}", name,
                     "target datasource must be ${datasource}")
            for var in re.findall(r"\$\{?(\w+)", target.get("expr", "")):
                c.expect(var in variables or var in GRAFANA_BUILTINS, name,
                         "uses undefined variable $" + var)
    c.expect("heatmap" in kinds and "timeseries" in kinds, where,
             "expected time series panels and a step-time heatmap")
    check_expressions_use_known_metrics(c, where, [e for _, e in dashboard_exprs(dashboard)],
                                        documented)
    wanted = ["ft_queue_depth", "ft_workers_connected", "ft_job_training_loss",
              "ft_job_accuracy_ratio", "ft_job_samples_per_second",
              "ft_optimizer_step_duration_seconds", "ft_job_device_memory_bytes",
              "ft_rpc_requests_total"]
    used = set()
    for _, expr in dashboard_exprs(dashboard):
        used |= {base_name(n, documented) for n in metric_names(expr)}
    for name in wanted:
        c.expect(name in used, where, "no panel shows " + name)


def check_prometheus(c, documented):
    rules = c.load_yaml("deploy/prometheus/alerts.yml")
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    names = {r["alert"] for r in alerts}
    for wanted in ("FtdJobFailed", "FtdQueueBacklogGrowing", "FtdNoWorker", "FtdJobLossNaN",
                   "FtdJobStalled", "FtdMetricsDown"):
        c.expect(wanted in names, "deploy/prometheus/alerts.yml", "no alert " + wanted)
    check_expressions_use_known_metrics(c, "deploy/prometheus/alerts.yml",
                                        [r["expr"] for r in alerts], documented)
    tests = c.load_yaml("deploy/prometheus/alerts_test.yml")
    tested = {t["alertname"] for case in tests["tests"] for t in case.get("alert_rule_test", [])}
    for name in names:
        c.expect(name in tested, "deploy/prometheus/alerts_test.yml", "no unit test for " + name)
    for config in ("prometheus.yml", "prometheus-compose.yml"):
        where = "deploy/prometheus/" + config
        data = c.load_yaml(where)
        c.expect(data.get("rule_files") == ["alerts.yml"], where, "must load alerts.yml")
        jobs = {s["job_name"]: s for s in data.get("scrape_configs", [])}
        c.expect("ftd" in jobs, where, 'needs scrape job "ftd" (the alerts and dashboard use it)')
    return c.load_yaml("deploy/prometheus/prometheus.yml")


def ftd_default_ports(c):
    with open(c.path("server", "ftd_server.h")) as f:
        header = f.read()
    listen = re.search(r'std::string listen = "([^"]+)"', header).group(1)
    metrics = re.search(r'std::string metrics_listen = "([^"]+)"', header).group(1)
    return host_port(listen)[1], host_port(metrics)[1]


def parse_dockerfile(c):
    with open(c.path("Dockerfile")) as f:
        text = f.read()
    joined = re.sub(r"\\\n", " ", text)
    lines = [l.strip() for l in joined.splitlines() if l.strip() and not l.strip().startswith("#")]
    stages = []
    for line in lines:
        word, _, rest = line.partition(" ")
        if word == "FROM":
            stages.append({"from": rest, "lines": []})
        elif stages:
            stages[-1]["lines"].append((word, rest))
    return stages


def install_deps_packages(c):
    with open(c.path("scripts", "install-deps.sh")) as f:
        text = f.read()
    block = re.search(r"PACKAGES=\((.*?)\n\)", text, re.S).group(1)
    packages = []
    for line in block.splitlines():
        packages += line.split("#", 1)[0].split()
    return packages


def installed_depends():
    """Package -> the names in its Depends and Pre-Depends, for every installed Debian package
    (one dpkg-query call)."""
    result = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Depends}, ${Pre-Depends}\n"],
                            capture_output=True, text=True)
    depends = {}
    for line in result.stdout.splitlines():
        package, _, fields = line.partition("\t")
        names = []
        for alternative in fields.split(","):
            for choice in alternative.split("|"):
                name = choice.strip().split(" ")[0].split(":")[0]
                if name:
                    names.append(name)
        depends[package] = names
    return depends


def depends_closure(roots, depends):
    seen, todo = set(), list(roots)
    while todo:
        package = todo.pop()
        if package in seen:
            continue
        seen.add(package)
        todo += depends.get(package, [])
    return seen


def needed_packages(binaries):
    """(binary, library, package) for the shared libraries each ELF file names in NEEDED, with
    the Debian package that ships the library (one dpkg -S call for all of them)."""
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    needed = []
    for binary in binaries:
        elf = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True,
                             check=True)
        for library in re.findall(r"Shared library: \[([^\]]+)\]", elf.stdout):
            match = re.search(r"^\s*" + re.escape(library) + r" \(.*\) => (\S+)$", cache, re.M)
            if match:  # else not a system library (e.g. a CUDA LibTorch under /opt)
                needed.append((binary, library, os.path.realpath(match.group(1))))
    paths = sorted({path for _, _, path in needed})
    owners = {}
    search = subprocess.run(["dpkg", "-S"] + paths, capture_output=True, text=True)
    for line in search.stdout.splitlines():
        package, _, path = line.partition(": ")
        owners[path.strip()] = package.split(":")[0].split(",")[0]
    # dpkg knows some libraries under /lib rather than /usr/lib (merged /usr).
    missing = [p for p in paths if p not in owners]
    if missing:
        alternatives = [p.replace("/usr/lib/", "/lib/", 1) for p in missing]
        search = subprocess.run(["dpkg", "-S"] + alternatives, capture_output=True, text=True)
        for line in search.stdout.splitlines():
            package, _, path = line.partition(": ")
            owners[path.strip().replace("/lib/", "/usr/lib/", 1)] = package.split(":")[0]
    return [(b, l, owners[p]) for b, l, p in needed if p in owners]


def check_dockerfile(c, api_port, metrics_port, bin_dir):
    where = "Dockerfile"
    stages = parse_dockerfile(c)
    if not c.expect(len(stages) >= 2, where, "expected a build and a runtime stage"):
        return None
    build, runtime = stages[0], stages[-1]
    build_runs = " ".join(rest for word, rest in build["lines"] if word == "RUN")
    c.expect("scripts/install-deps.sh" in build_runs, where,
             "the build stage must install with scripts/install-deps.sh (what the demo installs)")
    c.expect(any(word == "ARG" and rest.startswith("LIBTORCH_ZIP") for word, rest in
                 build["lines"]), where, "the CUDA variant's build argument LIBTORCH_ZIP is gone")
    runtime_runs = " ".join(rest for word, rest in runtime["lines"] if word == "RUN")
    install = re.search(r"apt-get install ([^&]*)", runtime_runs)
    runtime_packages = [w for w in (install.group(1).split() if install else [])
                        if not w.startswith("-")]
    c.expect(runtime_packages, where, "the runtime stage installs no packages")

    # The runtime packages come from the -dev packages install-deps.sh builds with.
    deps = install_deps_packages(c)
    depends = installed_depends()
    if all(p in depends for p in deps):
        closure = depends_closure(deps, depends)
        for package in runtime_packages:
            c.expect(package in closure, where,
                     "runtime package {} is not installed by scripts/install-deps.sh's list (nor a "
                     "dependency of it): out of step".format(package))
    else:
        print("note: install-deps.sh's packages are not installed here; package check skipped")

    # The binaries' shared libraries are all in the runtime list.
    binaries = [os.path.join(bin_dir, b) for b in ("ftd", "ftworker", "ftctl")] if bin_dir else []
    if binaries and all(os.path.exists(b) for b in binaries):
        needed = needed_packages(binaries)
        c.expect(len(needed) >= 10, where, "found only {} shared libraries".format(len(needed)))
        for binary, library, package in needed:
            c.expect(package in runtime_packages or package in BASE_IMAGE_PACKAGES, where,
                     "{} needs {} from package {}, which the runtime stage does not "
                     "install".format(os.path.basename(binary), library, package))
    else:
        print("note: no built binaries given; NEEDED check skipped")

    user = [rest for word, rest in runtime["lines"] if word == "USER"]
    c.expect(user and user[-1] not in ("root", "0"), where, "the runtime stage must run as non-root")
    uid = re.search(r"useradd [^&]*--uid (\d+)", runtime_runs)
    health = [rest for word, rest in runtime["lines"] if word == "HEALTHCHECK"]
    c.expect(health and "ftctl" in health[0] and '"health"' in health[0], where,
             "HEALTHCHECK must run `ftctl ... health`")
    if health:
        server = re.search(r'"--server", "([^"]+)"', health[0])
        c.expect(server and host_port(server.group(1))[1] == api_port, where,
                 "HEALTHCHECK's --server port must be the API port {}".format(api_port))
    entry = [rest for word, rest in runtime["lines"] if word == "ENTRYPOINT"]
    entrypoint = json.loads(entry[-1]) if entry else []
    c.expect(entrypoint[:1] == ["ftd"], where, "ENTRYPOINT must start ftd")
    listen = flag_value(entrypoint, "--listen")
    metrics = flag_value(entrypoint, "--metrics-listen")
    c.expect(listen and host_port(listen)[1] == api_port, where, "ENTRYPOINT --listen port")
    c.expect(metrics and host_port(metrics)[1] == metrics_port, where,
             "ENTRYPOINT --metrics-listen port")
    exposed = {int(p) for word, rest in runtime["lines"] if word == "EXPOSE" for p in rest.split()}
    c.expect(exposed == {api_port, metrics_port}, where,
             "EXPOSE {} must be the API and metrics ports".format(sorted(exposed)))
    volume = [rest for word, rest in runtime["lines"] if word == "VOLUME"]
    c.expect(volume and flag_value(entrypoint, "--home") == volume[0], where,
             "ENTRYPOINT --home must be the VOLUME")
    return {"uid": int(uid.group(1)) if uid else None, "home": volume[0] if volume else None}


def compose_ports(service):
    ports = {}
    for spec in service.get("ports", []):
        parts = str(spec).split(":")
        ports[int(parts[-1])] = int(parts[-2])
    return ports  # container port -> host port


def check_compose(c, api_port, metrics_port, image):
    where = "deploy/compose.yaml"
    compose = c.load_yaml(where)
    services = compose.get("services", {})
    for name in ("ftd", "prometheus", "grafana"):
        c.expect(name in services, where, "no service " + name)
    if not all(n in services for n in ("ftd", "prometheus", "grafana")):
        return
    ftd = services["ftd"]
    build = ftd.get("build", {})
    context = os.path.normpath(os.path.join(c.path("deploy"), build.get("context", ".")))
    c.expect(os.path.exists(os.path.join(context, build.get("dockerfile", "Dockerfile"))), where,
             "ftd's build context has no Dockerfile")
    c.expect(set(compose_ports(ftd)) == {api_port, metrics_port}, where,
             "ftd publishes container ports {}, ftd listens on {} and {}".format(
                 sorted(compose_ports(ftd)), api_port, metrics_port))
    if image and image.get("home"):
        c.expect(any(str(v).endswith(":" + image["home"]) for v in ftd.get("volumes", [])), where,
                 "ftd's home {} is not on a volume".format(image["home"]))

    def mounts(service):
        result = {}
        for volume in service.get("volumes", []):
            parts = str(volume).split(":")
            if parts[0].startswith("."):
                result[parts[1]] = os.path.normpath(os.path.join(c.path("deploy"), parts[0]))
        return result

    prometheus = services["prometheus"]
    prometheus_mounts = mounts(prometheus)
    config_flag = flag_value(prometheus.get("command", []), "--config.file")
    config_file = None
    for target, source in prometheus_mounts.items():
        if config_flag and config_flag.startswith(target + "/"):
            config_file = os.path.join(source, config_flag[len(target) + 1:])
    if c.expect(config_file and os.path.exists(config_file), where,
                "Prometheus' --config.file {} is not in a mounted folder".format(config_flag)):
        config = yaml.safe_load(open(config_file))
        targets = [t for s in config["scrape_configs"] if s["job_name"] == "ftd"
                   for sc in s.get("static_configs", []) for t in sc["targets"]]
        c.expect(targets == ["ftd:{}".format(metrics_port)], os.path.relpath(config_file, c.root),
                 "the compose scrape target must be ftd:{} (got {})".format(metrics_port, targets))
        for rule_file in config.get("rule_files", []):
            c.expect(os.path.exists(os.path.join(os.path.dirname(config_file), rule_file)), where,
                     "rule file {} is not beside the config".format(rule_file))
    c.expect(9090 in compose_ports(prometheus), where, "Prometheus' port 9090 is not published")

    grafana_mounts = mounts(services["grafana"])
    provisioning = grafana_mounts.get("/etc/grafana/provisioning")
    if c.expect(provisioning and os.path.isdir(provisioning), where,
                "Grafana's /etc/grafana/provisioning must be mounted from a folder"):
        datasources = yaml.safe_load(open(os.path.join(provisioning, "datasources",
                                                       "prometheus.yaml")))
        url = datasources["datasources"][0]["url"]
        c.expect(url == "http://prometheus:9090", "deploy/grafana/provisioning/datasources",
                 "datasource url {} must be the compose service prometheus:9090".format(url))
        c.expect(datasources["datasources"][0].get("uid") == "prometheus",
                 "deploy/grafana/provisioning/datasources", "datasource uid must be prometheus")
        providers = yaml.safe_load(open(os.path.join(provisioning, "dashboards", "ftd.yaml")))
        path = providers["providers"][0]["options"]["path"]
        source = grafana_mounts.get(path)
        c.expect(source and os.path.exists(os.path.join(source, "ftd.json")), where,
                 "the dashboard provider's path {} is not mounted from deploy/grafana/dashboards"
                 .format(path))


def check_k8s(c, api_port, metrics_port, image):
    folder = "deploy/k8s"
    kustomization = c.load_yaml(folder + "/kustomization.yaml")
    objects = []
    for resource in kustomization.get("resources", []):
        if c.expect(os.path.exists(c.path(folder, resource)), folder + "/kustomization.yaml",
                    "resource {} does not exist".format(resource)):
            objects += [(resource, o) for o in c.load_yaml_all(folder + "/" + resource)]
    by_kind = {}
    for resource, obj in objects:
        c.expect(obj.get("apiVersion") and obj.get("kind") and obj.get("metadata", {}).get("name"),
                 folder + "/" + resource, "every object needs apiVersion, kind and metadata.name")
        by_kind.setdefault(obj.get("kind"), {})[obj["metadata"]["name"]] = obj
    for kind in ("Deployment", "Service", "PersistentVolumeClaim", "ConfigMap"):
        c.expect(kind in by_kind, folder, "no " + kind)
    deployments = by_kind.get("Deployment", {})
    configmaps = by_kind.get("ConfigMap", {})
    pvcs = by_kind.get("PersistentVolumeClaim", {})
    for name, deployment in deployments.items():
        where = "{}/Deployment {}".format(folder, name)
        spec = deployment["spec"]
        template_labels = spec["template"]["metadata"].get("labels", {})
        for key, value in spec["selector"]["matchLabels"].items():
            c.expect(template_labels.get(key) == value, where, "selector does not match the pod")
        pod = spec["template"]["spec"]
        security = pod.get("securityContext", {})
        c.expect(security.get("runAsNonRoot") is True, where, "pods must run as non-root")
        if image and image.get("uid"):
            c.expect(security.get("runAsUser") == image["uid"], where,
                     "runAsUser must be the image's ftd uid {}".format(image["uid"]))
        for volume in pod.get("volumes", []):
            claim = volume.get("persistentVolumeClaim", {}).get("claimName")
            if claim:
                c.expect(claim in pvcs, where, "claims unknown PVC " + claim)
        for container in pod["containers"]:
            env = {e["name"] for e in container.get("env", [])}
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef", {}).get("name")
                if c.expect(ref in configmaps, where, "envFrom unknown ConfigMap {}".format(ref)):
                    env |= set(configmaps[ref].get("data", {}))
            args = container.get("args", [])
            for var in re.findall(r"\$\((\w+)\)", " ".join(args)):
                c.expect(var in env, where, "args use $({}) which no env or ConfigMap sets".format(
                    var))
            if image and image.get("home"):
                if any(m["mountPath"] == image["home"] for m in container.get("volumeMounts", [])):
                    pass
                else:
                    c.fail(where, "must mount ftd's home at {}".format(image["home"]))

            def resolved(flag):
                value = flag_value(args, flag)
                for var, val in ((k, v) for ref in container.get("envFrom", [])
                                 for k, v in configmaps.get(ref.get("configMapRef", {}).get("name"),
                                                            {}).get("data", {}).items()):
                    value = value.replace("$({})".format(var), val) if value else value
                return value

            if container.get("command", [None])[0] == "ftd":
                listen, metrics = resolved("--listen"), resolved("--metrics-listen")
                ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
                c.expect(listen and host_port(listen)[1] == ports.get("grpc") == api_port, where,
                         "grpc containerPort must match --listen ({})".format(listen))
                c.expect(metrics and host_port(metrics)[1] == ports.get("metrics") == metrics_port,
                         where, "metrics containerPort must match --metrics-listen")
                annotations = spec["template"]["metadata"].get("annotations", {})
                c.expect(annotations.get("prometheus.io/port") == str(metrics_port), where,
                         "prometheus.io/port annotation must be the metrics port")
                c.expect(container.get("readinessProbe", {}).get("grpc", {}).get("port") ==
                         api_port, where, "readiness must be the grpc.health.v1 probe on the API")
                ftd_labels = template_labels
            if container.get("command", [None])[0] == "ftworker":
                c.expect(container.get("resources", {}).get("limits", {}).get("nvidia.com/gpu"),
                         where, "the GPU worker must request nvidia.com/gpu")
                server = flag_value(args, "--server") or ""
                host, port = host_port(server)
                service = by_kind.get("Service", {}).get(host)
                c.expect(service is not None, where, "--server {} is not a Service".format(server))
                if service:
                    c.expect(port in [p["port"] for p in service["spec"]["ports"]], where,
                             "--server port {} is not a port of Service {}".format(port, host))
    for name, service in by_kind.get("Service", {}).items():
        where = "{}/Service {}".format(folder, name)
        selected = [d for d in deployments.values() if all(
            d["spec"]["template"]["metadata"]["labels"].get(k) == v
            for k, v in service["spec"]["selector"].items())]
        if c.expect(len(selected) == 1, where, "must select exactly one Deployment's pods"):
            container_ports = {p["name"]: p["containerPort"] for ct in
                               selected[0]["spec"]["template"]["spec"]["containers"]
                               for p in ct.get("ports", [])}
            for port in service["spec"]["ports"]:
                c.expect(port["targetPort"] in container_ports, where,
                         "targetPort {} is no container port name".format(port["targetPort"]))
                c.expect(container_ports.get(port["targetPort"]) == port["port"], where,
                         "port {} differs from the container's".format(port["name"]))
    for name, monitor in by_kind.get("ServiceMonitor", {}).items():
        where = "{}/ServiceMonitor {}".format(folder, name)
        ports = {p["name"] for s in by_kind.get("Service", {}).values() for p in s["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            c.expect(endpoint.get("port") in ports, where,
                     "endpoint port {} is no Service port".format(endpoint.get("port")))


def check_systemd(c, prometheus_config, api_port, metrics_port):
    where = "deploy/systemd/ftd.service"
    with open(c.path(where)) as f:
        unit = f.read()
    exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M)
    if not c.expect(exec_start, where, "no ExecStart"):
        return
    args = shlex.split(exec_start.group(1))
    c.expect(os.path.basename(args[0]) == "ftd", where, "ExecStart must run ftd")
    metrics = flag_value(args, "--metrics-listen")
    targets = [t for s in prometheus_config["scrape_configs"] if s["job_name"] == "ftd"
               for sc in s["static_configs"] for t in sc["targets"]]
    c.expect(metrics and targets == [metrics], where,
             "--metrics-listen {} must be prometheus.yml's target {}".format(metrics, targets))
    c.expect(host_port(flag_value(args, "--listen"))[1] == api_port, where, "--listen port")
    home = flag_value(args, "--home")
    c.expect(home and re.search(r"^ReadWritePaths=.*" + re.escape(home), unit, re.M), where,
             "--home must be writable (ReadWritePaths)")
    c.expect(re.search(r"^User=(?!root)", unit, re.M), where, "must run as a non-root User=")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=os.environ.get("FT_SOURCE_DIR", "."))
    parser.add_argument("--bin-dir", default=os.environ.get("FT_BIN_DIR"))
    args = parser.parse_args()
    c = Checker(os.path.abspath(args.root))
    api_port, metrics_port = ftd_default_ports(c)
    check_all_files_parse(c)
    if c.problems:  # the cross-reference checks need every file
        print("\n".join(c.problems))
        return 1
    documented = documented_metrics(c)
    check_metrics_catalogue(c, documented)
    check_dashboard(c, documented)
    prometheus_config = check_prometheus(c, documented)
    image = check_dockerfile(c, api_port, metrics_port, args.bin_dir)
    check_compose(c, api_port, metrics_port, image)
    check_k8s(c, api_port, metrics_port, image)
    check_systemd(c, prometheus_config, api_port, metrics_port)
    for problem in c.problems:
        print(problem)
    print("{} problem(s)".format(len(c.problems)))
    return 1 if c.problems else 0


if __name__ == "__main__":
    sys.exit(main())
