/** `aggregator serve --control-allow CIDR,…` (CONTROL_ALLOW) and `--ca FILE` (NODE_EXTRA_CA_CERTS). */
import t from 'tap'
import { serverConfig } from '../../aggregator/src/config.ts'
import { UsageError } from '../../shared/src/args.ts'

t.same(serverConfig({}, {}).controlAllow, [], 'none by default')
t.same(serverConfig({ 'control-allow': '10.10.0.0/16, fd00::/8' }, {}).controlAllow, ['10.10.0.0/16', 'fd00::/8'])
t.same(serverConfig({}, { CONTROL_ALLOW: '192.168.0.0/24' }).controlAllow, ['192.168.0.0/24'], 'from the environment')
t.same(serverConfig({ 'control-allow': '10.0.0.0/8' }, { CONTROL_ALLOW: '192.168.0.0/24' }).controlAllow, ['10.0.0.0/8'], 'the flag wins')
t.throws(() => serverConfig({ 'control-allow': '10.0.0.0/40' }, {}), UsageError)
t.throws(() => serverConfig({ 'control-allow': 'lab' }, {}), /CIDR ranges such as/)
t.same(serverConfig({ ca: '/tmp/lab-ca.pem' }, { NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' }).caFiles, ['/tmp/lab-ca.pem', '/etc/ssl/certs/ca-certificates.crt'])
