/**
 * The "Examples:" section of every command's `--help`, in one table keyed by the command's path
 * (`rollout status`, `node drain`), so commands get examples without editing their files.
 * test/cli/help.test.ts fails, listing the paths, when a registered command has no entry here.
 */

/** Command path (without `flotilla`) -> example command lines, each with a `#` comment. */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  server: [
    'flotilla server --data-dir /var/lib/flotilla --listen 0.0.0.0:6443   # embedded SQLite store',
    'flotilla server --store etcd --etcd-endpoints http://127.0.0.1:2379  # share one etcd with other servers',
  ],
  up: [
    'flotilla up                                  # one-node cluster: server and agent in one process',
    'flotilla up --data-dir /tmp/fl --listen 127.0.0.1:6443',
  ],
  agent: [
    'flotilla agent --server https://10.0.0.1:6443 --token TOKEN   # join a node',
    'flotilla agent --server https://10.0.0.1:6443 --token TOKEN --label ssd=true',
  ],
  token: ['flotilla token create                 # a worker join token', 'flotilla token create --role manager'],
  'token create': ['flotilla token create                 # prints the token and the agent command to run', 'flotilla token create --role manager --ttl 3600'],
  apply: ['flotilla apply -f web.yaml             # create or update every object of the file', 'cat web.yaml | flotilla apply -f -'],
  get: [
    'flotilla get services                  # table of services in namespace default',
    'flotilla get tasks -l service=web -o wide',
    'flotilla get service web -o yaml',
    'flotilla get all -A                    # every workload kind in every namespace',
    'flotilla get tasks -l \'service=web,tier!=front\' -o name',
    'flotilla get tasks --watch             # the table, then a line per change (Ctrl-C stops)',
  ],
  describe: ['flotilla describe service web', 'flotilla describe node n1', 'flotilla describe task web-1-abcde -n prod'],
  delete: [
    'flotilla delete service web',
    'flotilla delete -f web.yaml            # every object of the file',
    'flotilla delete tasks -l service=web   # every task whose labels match',
  ],
  scale: ['flotilla scale service web --replicas 5'],
  rollout: ['flotilla rollout status service web', 'flotilla rollout undo service web --to-revision 2'],
  'rollout status': ['flotilla rollout status service web            # waits until the rollout ends', 'flotilla rollout status service/web --no-wait'],
  'rollout history': ['flotilla rollout history service web'],
  'rollout undo': ['flotilla rollout undo service web', 'flotilla rollout undo service web --to-revision 2'],
  'rollout pause': ['flotilla rollout pause service web'],
  'rollout resume': ['flotilla rollout resume service web'],
  'rollout promote': ['flotilla rollout promote service web       # blue-green or canary waiting for promotion'],
  'rollout restart': ['flotilla rollout restart service web       # new tasks, same spec'],
  logs: ['flotilla logs web-1-abcde', 'flotilla logs service/web --follow --tail 20'],
  exec: ['flotilla exec web-1-abcde -- cat /etc/hostname', 'flotilla exec web-1-abcde --timeout 10 -- sh -c "ps"'],
  node: ['flotilla node drain n1', 'flotilla node label n1 ssd=true'],
  'node drain': ['flotilla node drain n1              # move its tasks away, place no new ones'],
  'node cordon': ['flotilla node cordon n1             # place no new tasks, keep the running ones'],
  'node uncordon': ['flotilla node uncordon n1'],
  'node label': ['flotilla node label n1 ssd=true datacenter=eu1', 'flotilla node label n1 ssd-          # remove the label'],
  user: ['flotilla user create ann --group dev -o ann.json'],
  'user create': ['flotilla user create ann --group dev -o ann.json   # a client config for ann', 'FLOTILLA_CONFIG=ann.json flotilla get services'],
  'user delete': ['flotilla user delete ann'],
  grant: ['flotilla grant create --subject user:ann --role view --namespace default'],
  'grant create': ['flotilla grant create --subject user:ann --role view --namespace default', 'flotilla grant create --subject group:dev --role edit --namespace dev --label team=a'],
  secret: ['flotilla secret create db-pass --from-literal s3cret', 'flotilla secret rotate-key'],
  'secret create': ['flotilla secret create db-pass --from-literal s3cret', 'flotilla secret create tls-key --from-file key.pem -n prod'],
  'secret rotate-key': ['flotilla secret rotate-key           # re-wrap every secret under a new key'],
  // Commands of the CONTRACT being written in parallel, from its synopsis (check at merge).
  stack: ['flotilla stack deploy -c compose.yaml shop', 'flotilla stack ls'],
  'stack deploy': ['flotilla stack deploy -c compose.yaml shop   # create or update the services of a Compose file'],
  'stack ls': ['flotilla stack ls'],
  'stack services': ['flotilla stack services shop'],
  'stack rm': ['flotilla stack rm shop'],
  image: ['flotilla image sign --key key.pem 127.0.0.1:5000/demo/web:1', 'flotilla image verify --key pub.pem 127.0.0.1:5000/demo/web:1'],
  'image sign': ['flotilla image sign --key key.pem 127.0.0.1:5000/demo/web:1'],
  'image verify': ['flotilla image verify --key pub.pem 127.0.0.1:5000/demo/web:1'],
  'node recycle': ['flotilla node recycle n1'],
  'node rotate-cert': ['flotilla node rotate-cert n1'],
  ca: ['flotilla ca rotate'],
  'ca rotate': ['flotilla ca rotate'],
  completion: [
    'source <(flotilla completion bash)     # bash, this shell',
    'flotilla completion bash > /etc/bash_completion.d/flotilla',
    'flotilla completion zsh > "${fpath[1]}/_flotilla"   # zsh (then: compinit)',
  ],
  explain: ['flotilla explain service', 'flotilla explain service.spec.update', 'flotilla explain task.status.state'],
  version: ['flotilla version                       # client and server', 'flotilla version --client -o json'],
};
